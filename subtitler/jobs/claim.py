"""The claim statement workers use, and the duplicate-job error of the dedup index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Update, or_, select, update

from subtitler.db.models import Job
from subtitler.errors import Conflict
from subtitler.jobs.states import JobStatus


class DuplicateJob(Conflict):
    code = "duplicate_job"

    def __init__(self, existing_id: str | None) -> None:
        detail = (
            f"A job already writes this subtitle (file, language, variant): {existing_id}"
            if existing_id
            else "A job already writes this subtitle (file, language, variant)"
        )
        super().__init__(detail)
        self.existing_id = existing_id


def claim_statement(
    *,
    worker_id: str,
    node_id: str | None,
    now: datetime,
    job_types: Sequence[str] | None = None,
    lease_seconds: float | None = None,
    path_prefixes: Sequence[str] | None = None,
    local_only: bool = False,
) -> Update:
    """One statement that moves the best queued job to processing and returns it.

    Cluster nodes (subtitler.cluster) add: a lease, only jobs pinned to this node or to none
    (`local_only`), and only files under the queue-side prefixes their path mappings see."""
    pick = select(Job.id).where(Job.status == JobStatus.QUEUED)
    pick = pick.where(or_(Job.not_before.is_(None), Job.not_before <= now))  # retry backoff
    if job_types:
        pick = pick.where(Job.job_type.in_(list(job_types)))
    if local_only:
        pick = pick.where(or_(Job.pinned_node.is_(None), Job.pinned_node == node_id))
    if path_prefixes:
        pick = pick.where(
            or_(
                Job.pinned_node == node_id,
                *(Job.file_path.startswith(p.rstrip("/") + "/", autoescape=True)
                  for p in path_prefixes),
            )
        )  # fmt: skip
    pick = (
        pick.order_by(Job.priority.desc(), Job.created_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (
        update(Job)
        .where(Job.id == pick.scalar_subquery(), Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.PROCESSING,
            worker_id=worker_id,
            node_id=node_id,
            started_at=now,
            heartbeat_at=now,
            progress=0.0,
            current_stage=None,
            eta_seconds=None,
            lease_expires_at=(
                now + timedelta(seconds=lease_seconds) if lease_seconds is not None else None
            ),
        )
        .returning(Job)
    )
