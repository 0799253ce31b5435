"""Queue control beyond one transition: priority of a queued job, removing finished jobs, and
bulk actions over ids or a filter (Sonarr's queue/bulk, with per-job errors reported)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from subtitler.db.models import Job
from subtitler.errors import BadRequest, Conflict, SubtitlerError
from subtitler.jobs.filters import JobFilter
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.states import TERMINAL, JobStatus

logger = logging.getLogger(__name__)

BULK_ACTIONS = ("retry", "cancel", "remove", "priority")
MAX_BULK = 10_000


class JobControl:
    def __init__(self, queue: JobQueue) -> None:
        self._queue = queue
        self._db = queue._db

    async def set_priority(self, job_id: str, *, priority: int) -> Job:
        job = await self._queue._transition(
            job_id, allowed=(JobStatus.QUEUED,), values={"priority": priority},
            log=f"priority set to {priority}",
        )  # fmt: skip
        if job is None:
            current = await self._queue.get(job_id)
            raise Conflict(
                f"{current.file_name}: its job is {current.status}; only a queued job's "
                "priority can change",
                code="job_not_queued",
            )
        self._queue._publish_update(job, "priority")
        return job

    async def remove(self, job_ids: Sequence[str]) -> int:
        """Delete finished jobs (their written-subtitle history stays)."""
        if not job_ids:
            return 0
        async with self._db.write() as session:
            result = await session.execute(
                delete(Job)
                .where(Job.id.in_(list(job_ids)), Job.status.in_(list(TERMINAL)))
                .returning(Job.id)
            )
            removed = [row[0] for row in result.all()]
        if removed:
            self._queue._counts.invalidate()
            self._queue._bus.publish("jobs_removed", {"ids": removed, "count": len(removed)})
        return len(removed)

    async def bulk(
        self,
        *,
        action: str,
        ids: Sequence[str] | None,
        filters: JobFilter | None,
        priority: int | None,
    ) -> dict[str, Any]:
        if action not in BULK_ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(BULK_ACTIONS)}", code="bad_action")
        if action == "priority" and priority is None:
            raise BadRequest("priority is required for action 'priority'", code="missing_priority")
        if (ids is None) == (filters is None):
            raise BadRequest("give either ids or filter", code="bad_selection")
        matched = await self._select(ids, filters)
        errors: list[dict[str, str]] = []
        if ids is not None:
            found = {job_id for job_id, _ in matched}
            errors += [{"id": i, "detail": f"Job {i} not found"} for i in ids if i not in found]
        if action == "remove":
            finished = [i for i, status in matched if status in TERMINAL]
            errors += [
                {"id": i, "detail": f"Job {i} is {status}; cancel it before removing it"}
                for i, status in matched if status not in TERMINAL
            ]  # fmt: skip
            affected = await self.remove(finished)
        else:
            affected = 0
            for job_id, _ in matched:
                try:
                    if action == "retry":
                        await self._queue.retry(job_id)
                    elif action == "cancel":
                        await self._queue.cancel(job_id)
                    else:
                        await self.set_priority(job_id, priority=int(priority or 0))
                    affected += 1
                except SubtitlerError as exc:
                    errors.append({"id": job_id, "detail": exc.detail})
        logger.info("bulk %s: %d matched, %d affected", action, len(matched), affected)
        return {"action": action, "matched": len(matched), "affected": affected, "errors": errors}

    async def _select(
        self, ids: Sequence[str] | None, filters: JobFilter | None
    ) -> list[tuple[str, str]]:
        stmt = select(Job.id, Job.status)
        if ids is not None:
            if len(ids) > MAX_BULK:
                raise BadRequest(f"at most {MAX_BULK} ids", code="too_many_ids")
            stmt = stmt.where(Job.id.in_(list(ids)))
        else:
            stmt = (filters or JobFilter()).apply(stmt).order_by(Job.created_at).limit(MAX_BULK)
        async with self._db.read() as session:
            return [(str(i), str(s)) for i, s in (await session.execute(stmt)).all()]
