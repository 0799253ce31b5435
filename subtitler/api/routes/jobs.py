"""Jobs API: /api/jobs."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Response, status

from subtitler.api.deps import get_daemon
from subtitler.api.routes.job_create import create_idempotent, job_filter
from subtitler.api.schemas import JobCreate, JobLogLine, JobStats, Message
from subtitler.daemon import Daemon
from subtitler.jobs.filters import JobFilter
from subtitler.jobs.schemas import JobListOut, JobOut, as_utc_iso
from subtitler.jobs.states import JobStatus

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("", response_model=JobListOut)
async def list_jobs(
    status_filter: JobStatus | None = Query(default=None),
    page: int = Query(default=1, ge=1, le=1_000_000),
    page_size: int = Query(default=50, ge=1, le=500),
    filters: JobFilter = Depends(job_filter),
    sort: Literal["created_at", "priority", "file_name", "status", "progress"] = "created_at",
    order: Literal["asc", "desc"] = "desc",
    daemon: Daemon = Depends(get_daemon),
) -> Response:
    body = await daemon.listing.page_json(
        status=status_filter, page=page, page_size=page_size, filters=filters, sort=sort,
        order=order,
    )  # fmt: skip
    return Response(body, media_type="application/json")


@router.get("/stats", response_model=JobStats)
async def job_stats(daemon: Daemon = Depends(get_daemon)) -> JobStats:
    return JobStats(**await daemon.queue.stats())


@router.post("/queue/clear", response_model=Message)
async def clear_completed(
    status_: list[Literal["completed", "failed", "cancelled"]] = Query(
        default=["completed"], alias="status", description="Finished statuses to clear"
    ),
    daemon: Daemon = Depends(get_daemon),
) -> Message:
    count = await daemon.queue.clear(status=list(dict.fromkeys(status_)))
    return Message(message=f"Cleared {count} {'/'.join(dict.fromkeys(status_))} jobs")


@router.get("/{job_id}", response_model=JobOut)
async def get_job(job_id: str, daemon: Daemon = Depends(get_daemon)) -> JobOut:
    return JobOut.model_validate(await daemon.queue.get(job_id))


@router.get("/{job_id}/log", response_model=list[JobLogLine])
async def job_log(job_id: str, daemon: Daemon = Depends(get_daemon)) -> list[JobLogLine]:
    lines = await daemon.queue.logs(job_id)
    return [
        JobLogLine(
            timestamp=as_utc_iso(line.created_at) or "", level=line.level, message=line.message
        )
        for line in lines
    ]


@router.post("", response_model=JobOut, status_code=status.HTTP_201_CREATED)
async def create_job(
    body: JobCreate,
    daemon: Daemon = Depends(get_daemon),
    idempotency_key: str | None = Header(default=None, max_length=255),
) -> Response:
    return await create_idempotent(daemon, body, idempotency_key)


@router.post("/{job_id}/retry", response_model=JobOut)
async def retry_job(job_id: str, daemon: Daemon = Depends(get_daemon)) -> JobOut:
    return JobOut.model_validate(await daemon.queue.retry(job_id))


@router.delete("/{job_id}", response_model=Message)
async def cancel_job(job_id: str, daemon: Daemon = Depends(get_daemon)) -> Message:
    await daemon.queue.cancel(job_id)
    return Message(message=f"Job {job_id} cancelled successfully")


@router.post("/{job_id}/cancel", response_model=Message)
async def cancel_job_post(job_id: str, daemon: Daemon = Depends(get_daemon)) -> Message:
    await daemon.queue.cancel(job_id)
    return Message(message=f"Job {job_id} cancelled successfully")
