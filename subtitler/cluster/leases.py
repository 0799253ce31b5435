"""Leases on claimed jobs: renewed by the owning node's heartbeat, reaped by the lease duty.

Like `JobQueue.recover_orphans` (the single-node form of the same recovery) these are
conditional UPDATEs: a job whose node came back in time keeps its lease and is not touched.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from subtitler.db import Database
from subtitler.db.models import Job, JobLogLine
from subtitler.events import EventBus
from subtitler.jobs.schemas import job_payload
from subtitler.jobs.states import MAX_RECOVERIES, JobStatus

logger = logging.getLogger(__name__)

EVENT_FIELDS = ("id", "status", "worker_id", "progress", "recovered_count", "error", "error_code")


async def renew(*, db: Database, node_id: str, now: datetime, lease_seconds: float) -> int:
    """Extend the lease of every job this node is running; returns how many."""
    stmt = (
        update(Job)
        .where(Job.status == JobStatus.PROCESSING, Job.node_id == node_id)
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    async with db.write() as session:
        result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def reap(*, db: Database, bus: EventBus, now: datetime) -> int:
    """A node with a job whose lease ran out is gone: all of its running jobs, whatever their
    own leases say, go back to the queue with one more `recovered_count`. A job pinned to its
    node (an /asr upload: its client and audio were on that node) fails with `node_lost`, as
    does one interrupted MAX_RECOVERIES times. One transaction: no reader sees a node's jobs
    requeued and its uploads still running. Returns the number touched."""
    lapsed = (
        Job.status == JobStatus.PROCESSING,
        Job.lease_expires_at.is_not(None),
        Job.lease_expires_at < now,
    )
    common = {
        "worker_id": None,
        "progress": 0.0,
        "current_stage": None,
        "eta_seconds": None,
        "lease_expires_at": None,
        "recovered_count": Job.recovered_count + 1,
    }
    touched: list[tuple[Job, str]] = []
    async with db.write() as session:
        dead = select(Job.node_id).where(*lapsed, Job.node_id.is_not(None)).distinct()
        nodes = list(await session.scalars(dead))
        gone = or_(
            and_(Job.status == JobStatus.PROCESSING, Job.node_id.in_(nodes)),
            and_(*lapsed, Job.node_id.is_(None)),
        )
        expired = (gone,)
        failed_pinned = await session.scalars(
            update(Job)
            .where(*expired, Job.pinned_node.is_not(None))
            .values(**common, status=JobStatus.FAILED, completed_at=now,
                    error="the node that received this request stopped", error_code="node_lost")
            .returning(Job)
        )  # fmt: skip
        touched += [(job, "its node stopped heartbeating: failed") for job in failed_pinned]
        too_often = await session.scalars(
            update(Job)
            .where(*expired, Job.recovered_count + 1 >= MAX_RECOVERIES)
            .values(**common, status=JobStatus.FAILED, completed_at=now,
                    error="the node running this job stopped too many times",
                    error_code="interrupted_too_often")
            .returning(Job)
        )  # fmt: skip
        touched += [(job, "its node stopped heartbeating: failed") for job in too_often]
        requeued = await session.scalars(
            update(Job)
            .where(*expired)
            .values(**common, status=JobStatus.QUEUED, started_at=None)
            .returning(Job)
        )
        touched += [(job, "its node stopped heartbeating: lease expired, requeued")
                    for job in requeued]  # fmt: skip
        for job, message in touched:
            session.add(JobLogLine(job_id=job.id, level="warning", message=message))
    for job, _ in touched:
        logger.warning("job %s: lease of node %s expired, now %s", job.id, job.node_id, job.status)
        payload = job_payload(job)
        bus.publish("job_updated", {k: payload[k] for k in EVENT_FIELDS if k in payload})
    return len(touched)
