"""The job queue: the only code that changes a job's state.

Every transition is one conditional UPDATE (WHERE status IN allowed-from), so racing callers (a
worker finishing while a user cancels) cannot both win. Claims are a single
`UPDATE ... WHERE id = (SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *`; SQLAlchemy drops
SKIP LOCKED on SQLite, where BEGIN IMMEDIATE serialises writers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from subtitler.db import Database
from subtitler.db.models import Job, JobLogLine, new_job_id, utcnow
from subtitler.errors import BadRequest, NotFound
from subtitler.events import EventBus
from subtitler.jobs.claim import DuplicateJob, claim_statement
from subtitler.jobs.counts import StatusCounts
from subtitler.jobs.filters import JobFilter, order_by
from subtitler.jobs.retries import RetryPolicy, retry_message
from subtitler.jobs.schemas import job_payload
from subtitler.jobs.states import CANCELLABLE, RETRYABLE, TERMINAL, JobStatus

logger = logging.getLogger(__name__)

STATS_TTL = 5.0


class JobQueue:
    def __init__(self, db: Database, bus: EventBus, *, node_id: str) -> None:
        self._db = db
        self._bus = bus
        self.node_id = node_id
        self._counts = StatusCounts(db, bus)
        # Automatic retries of transient failures (the daemon sets it from the settings).
        self.retry_policy: RetryPolicy | None = None
        # Set by subtitler.cluster on a PostgreSQL node: lease, pinned jobs, visible folders.
        self.lease_seconds: float | None = None
        self.local_only = False
        self.path_prefixes: tuple[str, ...] | None = None

    # --- creation -------------------------------------------------------------------------
    async def enqueue(self, **fields: Any) -> Job:
        job = Job(**fields)
        job.status = JobStatus.QUEUED
        try:
            async with self._db.write() as session:
                session.add(job)
                await session.flush()
                session.add(JobLogLine(job_id=job.id, message=_created_message(job)))
        except IntegrityError:
            existing = await self.find_active(
                file_path=job.file_path, target_lang=job.target_lang, variant=job.variant or ""
            )
            raise DuplicateJob(existing.id if existing else None) from None
        self._bus.publish("job_created", job_payload(job))
        return job

    async def enqueue_many(self, rows: Sequence[dict[str, Any]]) -> tuple[list[Job], int]:
        """Queue many jobs in one transaction (a library scan). Rows that collide with a live
        job on the dedup index are skipped: returns (created jobs, number skipped)."""
        if not rows:
            return [], 0
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        now = utcnow()
        params = [
            {"id": new_job_id(), "options": {}, "created_at": now, **fields,
             "status": JobStatus.QUEUED}
            for fields in rows
        ]  # fmt: skip
        stmt = insert(Job).on_conflict_do_nothing().returning(Job)
        async with self._db.write() as session:
            created = list((await session.scalars(stmt, params)).all())
            if created:
                await session.execute(
                    sqlite_insert(JobLogLine) if self._db.is_sqlite else pg_insert(JobLogLine),
                    [{"job_id": job.id, "message": _created_message(job), "level": "info",
                      "created_at": now} for job in created],
                )  # fmt: skip
        for job in created:
            self._bus.publish("job_created", job_payload(job))
        return created, len(rows) - len(created)

    async def find_active(
        self,
        *,
        file_path: str,
        target_lang: str | None,
        variant: str = "",
        task: str | None = None,
        include_completed: bool = True,
    ) -> Job | None:
        """The live (or completed) job writing this output: file, output language, variant.
        The task does not matter (a transcribe and a translate to one language write one file);
        `task` is accepted for callers that keyed on it."""
        del task
        statuses = [JobStatus.QUEUED, JobStatus.PROCESSING]
        if include_completed:
            statuses.append(JobStatus.COMPLETED)
        stmt = (
            select(Job)
            .where(
                Job.file_path == file_path,
                func.coalesce(Job.target_lang, "") == (target_lang or ""),
                Job.variant == variant,
                Job.status.in_(statuses),
            )
            .order_by(Job.created_at.desc())
            .limit(1)
        )
        async with self._db.read() as session:
            return await session.scalar(stmt)

    # --- workers --------------------------------------------------------------------------
    async def claim(self, *, worker_id: str, job_types: Sequence[str] | None = None) -> Job | None:
        stmt = claim_statement(
            worker_id=worker_id, node_id=self.node_id, now=utcnow(), job_types=job_types,
            lease_seconds=self.lease_seconds, local_only=self.local_only,
            path_prefixes=self.path_prefixes,
        )  # fmt: skip
        async with self._db.write() as session:
            job = (await session.execute(stmt)).scalars().first()
            if job is not None:
                session.add(JobLogLine(job_id=job.id, message=f"claimed by {worker_id}"))
        if job is not None:
            self._publish_update(job, "status", "worker_id", "started_at", "progress")
        return job

    async def report_progress(
        self,
        job_id: str,
        *,
        worker_id: str,
        progress: float | None = None,
        stage: str | None = None,
        eta_seconds: float | None = None,
        **fields: Any,
    ) -> bool:
        """Record progress of a running job. False when the job is no longer this worker's
        (cancelled, requeued): the worker should stop."""
        values: dict[str, Any] = {"heartbeat_at": utcnow(), **fields}
        if progress is not None:
            values["progress"] = max(0.0, min(100.0, round(progress, 2)))
        if stage is not None:
            values["current_stage"] = stage
        values["eta_seconds"] = eta_seconds
        job = await self._transition(
            job_id, allowed=(JobStatus.PROCESSING,), values=values, worker_id=worker_id
        )
        if job is None:
            return False
        self._publish_update(job, *(k for k in values if k != "heartbeat_at"))
        return True

    async def complete(self, job_id: str, *, worker_id: str, **result: Any) -> Job | None:
        now = utcnow()
        values = {
            "status": JobStatus.COMPLETED,
            "completed_at": now,
            "progress": 100.0,
            "eta_seconds": None,
            "error": None,
            "error_code": None,
            **result,
        }
        job = await self._transition(
            job_id,
            allowed=(JobStatus.PROCESSING,),
            values=values,
            worker_id=worker_id,
            log="completed",
        )
        if job is not None:
            self._publish_update(job, *values)
        return job

    async def fail(
        self, job_id: str, *, worker_id: str | None, error: str, error_code: str, **result: Any
    ) -> Job | None:
        delay = await self._auto_retry_delay(job_id, error_code)
        if delay is not None:
            return await self._retry_later(
                job_id, worker_id=worker_id, error=error, error_code=error_code, delay=delay,
                result=result,
            )  # fmt: skip
        values = {
            "status": JobStatus.FAILED,
            "completed_at": utcnow(),
            "eta_seconds": None,
            "error": error,
            "error_code": error_code,
            **result,
        }
        job = await self._transition(
            job_id,
            allowed=(JobStatus.PROCESSING,),
            values=values,
            worker_id=worker_id,
            log=f"failed ({error_code}): {error}",
            level="error",
        )
        if job is not None:
            self._publish_update(job, *values)
        return job

    async def requeue(self, job_id: str, *, reason: str) -> Job | None:
        """Put a processing job back (its worker died or was removed)."""
        values = {
            "status": JobStatus.QUEUED,
            "worker_id": None,
            "started_at": None,
            "progress": 0.0,
            "current_stage": None,
            "eta_seconds": None,
            "lease_expires_at": None,
        }
        job = await self._transition(
            job_id,
            allowed=(JobStatus.PROCESSING,),
            values=values,
            log=f"requeued: {reason}",
            level="warning",
        )
        if job is not None:
            self._publish_update(job, *values)
        return job

    # --- users ----------------------------------------------------------------------------
    async def cancel(self, job_id: str, *, reason: str = "cancelled by user") -> Job:
        values = {
            "status": JobStatus.CANCELLED,
            "completed_at": utcnow(),
            "eta_seconds": None,
            "error": reason,
            "error_code": "cancelled",
        }
        job = await self._transition(
            job_id, allowed=tuple(CANCELLABLE), values=values, log=reason, level="warning"
        )
        if job is None:
            current = await self.get(job_id)
            raise BadRequest(
                f"{current.file_name}: its job is already {current.status} and cannot be cancelled",
                code="job_not_cancellable",
            )
        self._publish_update(job, *values)
        return job

    async def retry(self, job_id: str) -> Job:
        values = {
            "status": JobStatus.QUEUED,
            "retry_count": Job.retry_count + 1,
            "crash_count": 0,  # a user's retry starts afresh
            "recovered_count": 0,
            "progress": 0.0,
            "current_stage": None,
            "eta_seconds": None,
            "error": None,
            "error_code": None,
            "worker_id": None,
            "started_at": None,
            "completed_at": None,
            "not_before": None,
        }
        try:
            job = await self._transition(
                job_id, allowed=tuple(RETRYABLE), values=values, log="retried by user"
            )
        except IntegrityError:
            current = await self.get(job_id)
            existing = await self.find_active(
                file_path=current.file_path, target_lang=current.target_lang,
                variant=current.variant or "", include_completed=False,
            )  # fmt: skip
            raise DuplicateJob(existing.id if existing else None) from None
        if job is None:
            current = await self.get(job_id)
            raise BadRequest(
                f"{current.file_name}: its job is {current.status}; only a failed or cancelled "
                "job can be retried",
                code="job_not_retryable",
            )
        self._publish_update(job, *values)
        return job

    async def clear(self, *, status: str | Sequence[str] = JobStatus.COMPLETED) -> int:
        """Delete the jobs in `status` (finished ones only: queued/processing are refused)."""
        statuses = [status] if isinstance(status, str) else list(status)
        live = [s for s in statuses if s not in TERMINAL]
        if live:
            raise BadRequest(
                f"only finished jobs can be cleared (not {', '.join(live)}); cancel them first",
                code="job_not_finished",
            )
        async with self._db.write() as session:
            result = await session.execute(
                delete(Job).where(Job.status.in_(statuses)).returning(Job.id)
            )
            count = len(result.all())
        if count:
            self._counts.invalidate()
            self._bus.publish("jobs_cleared", {"status": ",".join(statuses), "count": count})
        return count

    async def log(self, job_id: str, message: str, *, level: str = "info") -> None:
        async with self._db.write() as session:
            session.add(JobLogLine(job_id=job_id, message=message, level=level))

    # --- start-up -------------------------------------------------------------------------
    async def recover_orphans(self) -> tuple[int, int]:
        """Jobs this node left `processing` when it died go back to `queued`; `recovered_count`
        records it, but a daemon restart is not the file's fault and never fails the job (only
        worker crashes while running it count: `record_crash`). Returns (requeued, 0)."""
        mine = or_(Job.node_id == self.node_id, Job.node_id.is_(None))
        async with self._db.write() as session:
            rows = (
                await session.scalars(select(Job).where(Job.status == JobStatus.PROCESSING, mine))
            ).all()
            for job in rows:
                job.recovered_count += 1
                job.worker_id = None
                job.progress = 0.0
                job.current_stage = None
                job.eta_seconds = None
                job.status = JobStatus.QUEUED
                job.started_at = None
                session.add(
                    JobLogLine(
                        job_id=job.id,
                        level="warning",
                        message="daemon restarted while processing; queued again",
                    )
                )
        self._counts.invalidate()
        return len(rows), 0

    async def record_crash(self, job_id: str) -> int:
        """One more worker crash while running this job; returns the new count."""
        async with self._db.write() as session:
            job = await session.get(Job, job_id)
            if job is None:
                return 0
            job.crash_count = (job.crash_count or 0) + 1
            return int(job.crash_count)

    # --- reads ----------------------------------------------------------------------------
    async def get(self, job_id: str) -> Job:
        async with self._db.read() as session:
            job = await session.get(Job, job_id)
        if job is None:
            raise NotFound(f"Job {job_id} not found", code="job_not_found")
        return job

    async def page(
        self,
        *,
        status: str | None,
        page: int,
        page_size: int,
        filters: JobFilter | None = None,
        sort: str = "created_at",
        order: str = "desc",
    ) -> tuple[list[Job], int]:
        filters = filters or JobFilter()
        if status is not None:
            filters = replace(filters, status=status)
        if filters.only_status:
            stats = await self.stats()
            total = stats["total_jobs"] if not filters.status else stats.get(filters.status, 0)
        else:
            async with self._db.read() as session:
                total = int(await session.scalar(filters.apply(select(func.count(Job.id)))) or 0)
        stmt = filters.apply(select(Job)).order_by(*order_by(sort, order))
        stmt = stmt.offset((page - 1) * page_size)
        async with self._db.read() as session:
            jobs = list((await session.scalars(stmt.limit(page_size))).all())
        return jobs, total

    async def stats(self) -> dict[str, int]:
        """Counts by status (cached; see StatusCounts)."""
        return await self._counts.get()

    async def logs(self, job_id: str) -> list[JobLogLine]:
        await self.get(job_id)
        async with self._db.read() as session:
            return list(
                (
                    await session.scalars(
                        select(JobLogLine)
                        .where(JobLogLine.job_id == job_id)
                        .order_by(JobLogLine.id)
                    )
                ).all()
            )

    # --- internals ------------------------------------------------------------------------
    async def _transition(
        self,
        job_id: str,
        *,
        allowed: Iterable[str],
        values: dict[str, Any],
        worker_id: str | None = None,
        log: str | None = None,
        level: str = "info",
    ) -> Job | None:
        """Apply `values` if the job is in an allowed state; None when it is not (404 if absent)."""
        stmt = update(Job).where(Job.id == job_id, Job.status.in_(list(allowed)))
        if worker_id is not None:
            stmt = stmt.where(Job.worker_id == worker_id)
            if self.local_only:  # worker ids repeat across nodes: the job must still be ours
                stmt = stmt.where(Job.node_id == self.node_id)
        async with self._db.write() as session:
            job = (await session.execute(stmt.values(**values).returning(Job))).scalars().first()
            if job is None:
                exists = await session.scalar(select(Job.id).where(Job.id == job_id))
                if exists is None:
                    raise NotFound(f"Job {job_id} not found", code="job_not_found")
                return None
            if log:
                session.add(JobLogLine(job_id=job_id, message=log, level=level))
            await session.flush()
            await session.refresh(job)
        return job

    async def _auto_retry_delay(self, job_id: str, error_code: str) -> float | None:
        policy = self.retry_policy
        if policy is None or not policy.is_transient(error_code):
            return None
        async with self._db.read() as session:
            done = await session.scalar(select(Job.auto_retry_count).where(Job.id == job_id))
        return None if done is None else policy.delay(int(done))

    async def _retry_later(
        self, job_id: str, *, worker_id: str | None, error: str, error_code: str, delay: float,
        result: dict[str, Any],
    ) -> Job | None:  # fmt: skip
        """A transient failure: back to the queue, claimable again after `delay` seconds."""
        values = {
            **result,
            "status": JobStatus.QUEUED,
            "not_before": utcnow() + timedelta(seconds=delay),
            "auto_retry_count": Job.auto_retry_count + 1,
            "worker_id": None,
            "started_at": None,
            "progress": 0.0,
            "current_stage": None,
            "eta_seconds": None,
            "error": error,
            "error_code": error_code,
        }
        job = await self._transition(
            job_id, allowed=(JobStatus.PROCESSING,), values=values, worker_id=worker_id,
            log=retry_message(error_code, error, delay), level="warning",
        )  # fmt: skip
        if job is not None:
            self._publish_update(job, *values)
        return job

    def _publish_update(self, job: Job, *fields: str) -> None:
        payload = job_payload(job)
        changed = {name: payload[name] for name in fields if name in payload}
        if "status" in changed:  # the Library follows its files, toasts name them
            changed |= {"file_path": job.file_path, "file_name": job.file_name}
        self._bus.publish("job_updated", {"id": job.id, **changed})


def _created_message(job: Job) -> str:
    target = job.target_lang or "audio language"
    source = job.source_subtitle
    if source is not None:  # no listening: the preset only matters for a fall back to speech
        where = source.get("path") or f"embedded stream s:{source.get('index')}"
        return f"created: translate the subtitle {where} ({source.get('language')}) to {target}"
    return f"created: {job.transcribe_or_translate} to {target}, preset {job.quality_preset}"
