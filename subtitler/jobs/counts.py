"""Job counts by status for /api/status, /health and list totals.

Recounting 100,000 rows on every request is what made those routes slow. The counts are cached
until a job is created, deleted or changes status (seen on the event bus), with a short TTL for
writes by other nodes sharing a PostgreSQL database; concurrent callers share one query.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from subtitler.db import Database
from subtitler.db.models import Job
from subtitler.events import Event, EventBus
from subtitler.jobs.states import JobStatus

STATS_TTL = 5.0


class StatusCounts:
    def __init__(self, db: Database, bus: EventBus) -> None:
        self._db = db
        self._stats: dict[str, int] | None = None
        self._stats_at = 0.0
        self._stats_query: asyncio.Task[dict[str, int]] | None = None
        bus.add_hook(self._on_event)

    def invalidate(self) -> None:
        self._stats = None
        self._stats_query = None

    def _on_event(self, event: Event) -> None:
        """Counts change when a job is created, deleted or changes status (not on progress)."""
        if event.type in ("job_created", "job_deleted", "jobs_cleared") or (
            event.type == "job_updated" and "status" in event.data
        ):
            self._stats = None
            self._stats_query = None

    async def get(self) -> dict[str, int]:
        """Counts by status; concurrent callers share one query, results live until a job
        changes (or STATS_TTL seconds)."""
        if self._stats is not None and time.monotonic() - self._stats_at < STATS_TTL:
            return dict(self._stats)
        if self._stats_query is None or self._stats_query.done():
            self._stats_query = asyncio.ensure_future(self._count())
        query = self._stats_query
        counts = await asyncio.shield(query)
        if self._stats_query is query:  # no job changed while we counted
            self._stats, self._stats_at = counts, time.monotonic()
        return dict(counts)

    async def _count(self) -> dict[str, int]:
        async with self._db.read() as session:
            rows = (
                await session.execute(select(Job.status, func.count()).group_by(Job.status))
            ).all()
        counts = {status.value: 0 for status in JobStatus}
        for status, count in rows:
            counts[str(status)] = int(count)
        return {"total_jobs": sum(counts.values()), **counts}
