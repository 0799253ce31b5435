"""The jobs list as the API serves it, cached as ready JSON bytes.

Dashboards poll page 1 over and over; building 50 job objects and serialising them costs far
more than the query. A page's bytes are reused until any job event (a new job, a status change,
progress) drops the cache, so a busy queue recomputes at most once per event burst.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from subtitler.events import Event, EventBus
from subtitler.jobs.filters import JobFilter
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.schemas import JobListOut, JobOut

MAX_CACHED_PAGES = 64

PageKey = tuple[JobFilter, int, int, str, str]


class JobListing:
    def __init__(self, queue: JobQueue, bus: EventBus) -> None:
        self._queue = queue
        self._pages: dict[PageKey, bytes] = {}
        self._building: dict[PageKey, asyncio.Task[bytes]] = {}
        self._generation = 0
        bus.add_hook(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.type.startswith("job"):
            self._pages.clear()
            self._building.clear()
            self._generation += 1

    async def page_json(
        self,
        *,
        status: str | None,
        page: int,
        page_size: int,
        filters: JobFilter | None = None,
        sort: str = "created_at",
        order: str = "desc",
    ) -> bytes:
        filters = replace(filters or JobFilter(), status=status) if status else filters
        key = (filters or JobFilter(), page, page_size, sort, order)
        cached = self._pages.get(key)
        if cached is not None:
            return cached
        task = self._building.get(key)
        if task is None:
            task = asyncio.ensure_future(self._build(key, self._generation))
            self._building[key] = task
        return await asyncio.shield(task)

    async def _build(self, key: PageKey, generation: int) -> bytes:
        filters, page, page_size, sort, order = key
        jobs, total = await self._queue.page(
            status=None, page=page, page_size=page_size, filters=filters, sort=sort, order=order
        )
        body = (
            JobListOut(
                jobs=[JobOut.model_validate(job) for job in jobs],
                total=total,
                page=page,
                page_size=page_size,
            )
            .model_dump_json()
            .encode()
        )
        if generation == self._generation:  # nothing changed while we built it
            if len(self._pages) >= MAX_CACHED_PAGES:
                self._pages.clear()
            self._pages[key] = body
        self._building.pop(key, None)
        return body
