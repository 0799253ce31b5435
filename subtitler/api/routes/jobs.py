"""Jobs API: /api/jobs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status

from subtitler.api.deps import get_daemon
from subtitler.api.schemas import JobCreate, JobLogLine, JobStats, Message
from subtitler.daemon import Daemon
from subtitler.jobs.schemas import JobListOut, JobOut, as_utc_iso
from subtitler.jobs.states import JobStatus

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("", response_model=JobListOut)
async def list_jobs(
    status_filter: JobStatus | None = Query(default=None),
    page: int = Query(default=1, ge=1, le=1_000_000),
    page_size: int = Query(default=50, ge=1, le=500),
    daemon: Daemon = Depends(get_daemon),
) -> Response:
    body = await daemon.listing.page_json(status=status_filter, page=page, page_size=page_size)
    return Response(body, media_type="application/json")


@router.get("/stats", response_model=JobStats)
async def job_stats(daemon: Daemon = Depends(get_daemon)) -> JobStats:
    return JobStats(**await daemon.queue.stats())


@router.post("/queue/clear", response_model=Message)
async def clear_completed(daemon: Daemon = Depends(get_daemon)) -> Message:
    count = await daemon.queue.clear(status=JobStatus.COMPLETED)
    return Message(message=f"Cleared {count} completed jobs")


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
async def create_job(body: JobCreate, daemon: Daemon = Depends(get_daemon)) -> JobOut:
    job = await daemon.jobs.create(**body.model_dump())
    return JobOut.model_validate(job)


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
