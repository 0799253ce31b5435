"""Workers API: /api/workers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from subtitler.api.deps import get_daemon
from subtitler.api.schemas import Message
from subtitler.daemon import Daemon

router = APIRouter(prefix="/api/workers", tags=["workers"])


class WorkerOut(BaseModel):
    worker_id: str
    worker_type: str
    device_id: int | None
    status: str
    current_job_id: str | None
    current_job_file: str | None = None  # the name of the file it works on
    current_stage: str | None
    jobs_completed: int
    jobs_failed: int
    uptime_seconds: float
    current_job_progress: float | None
    current_job_eta: float | None
    pid: int | None
    error: str | None
    node_id: str | None = None
    host: str | None = None


class WorkerStats(BaseModel):
    total_workers: int
    cpu_workers: int
    gpu_workers: int
    idle_workers: int
    busy_workers: int
    stopped_workers: int
    error_workers: int
    starting_workers: int
    sleeping_workers: int = 0  # in the pool, their process stopped until the next job
    total_jobs_completed: int
    total_jobs_failed: int
    uptime_seconds: float
    is_running: bool


class WorkerCreate(BaseModel):
    worker_type: str = Field(description="cpu or gpu")
    device_id: int | None = Field(
        default=None, ge=0, le=1024, description="GPU device id (GPU only)"
    )


@router.get("", response_model=list[WorkerOut])
async def list_workers(daemon: Daemon = Depends(get_daemon)) -> list[Any]:
    """Workers of every online node (each with node_id and host); this node's are live."""
    if daemon.cluster is not None:
        return await daemon.cluster.workers()
    return daemon.pool.list()


@router.get("/stats", response_model=WorkerStats)
async def worker_stats(daemon: Daemon = Depends(get_daemon)) -> Any:
    return daemon.pool.stats()


@router.post("/pool/start", response_model=Message)
async def start_pool(
    cpu_workers: int = Query(default=0, ge=0, le=64),
    gpu_workers: int = Query(default=0, ge=0, le=64),
    daemon: Daemon = Depends(get_daemon),
) -> Message:
    await daemon.pool.start_pool(cpu=cpu_workers, gpu=gpu_workers)
    return Message(
        message=f"Worker pool started: {cpu_workers} CPU workers, {gpu_workers} GPU workers"
    )


@router.post("/pool/stop", response_model=Message)
async def stop_pool(
    timeout: float = Query(default=30.0, ge=0, le=3600), daemon: Daemon = Depends(get_daemon)
) -> Message:
    await daemon.pool.stop_pool(timeout=timeout)
    return Message(message="Worker pool stopped successfully")


@router.get("/{worker_id}", response_model=WorkerOut)
async def get_worker(worker_id: str, daemon: Daemon = Depends(get_daemon)) -> Any:
    return daemon.pool.get(worker_id).describe() | daemon.pool.node_info


@router.post("", response_model=WorkerOut, status_code=status.HTTP_201_CREATED)
async def add_worker(body: WorkerCreate, daemon: Daemon = Depends(get_daemon)) -> Any:
    worker = await daemon.pool.add(worker_type=body.worker_type, device_id=body.device_id)
    return worker.describe() | daemon.pool.node_info


@router.delete("/{worker_id}", response_model=Message)
async def remove_worker(
    worker_id: str,
    timeout: float = Query(default=30.0, ge=0, le=3600),
    node_id: str | None = Query(default=None, description="The worker's node (default: this)"),
    daemon: Daemon = Depends(get_daemon),
) -> Message:
    if daemon.cluster is not None and node_id and node_id != daemon.config.node_id:
        await daemon.cluster.remove_remote_worker(
            node_id=node_id, worker_id=worker_id, timeout=timeout,
            api_key=daemon.settings.get("api_key") or None,
        )  # fmt: skip
        return Message(message=f"Worker {worker_id} removed from node {node_id}")
    await daemon.pool.remove(worker_id, timeout=timeout)
    return Message(message=f"Worker {worker_id} removed successfully")
