"""Scanner API: /api/scanner (scan, analyse, scheduler and watcher control)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from subtitler.api.deps import get_daemon
from subtitler.api.schemas import Message
from subtitler.daemon import Daemon
from subtitler.scanner.models import (
    ScannerStatus,
    ScanRequest,
    ScanResult,
    SchedulerStart,
    WatcherStart,
)

router = APIRouter(prefix="/api/scanner", tags=["scanner"])


@router.get("/status", response_model=ScannerStatus)
async def scanner_status(daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return daemon.scanner.status()


@router.post("/scan", response_model=ScanResult)
async def scan(
    body: ScanRequest | None = Body(default=None), daemon: Daemon = Depends(get_daemon)
) -> ScanResult:
    body = body or ScanRequest()
    return await daemon.scanner.scan(paths=body.paths, recursive=body.recursive)


@router.post("/scheduler/start", response_model=Message)
async def start_scheduler(
    body: SchedulerStart | None = Body(default=None), daemon: Daemon = Depends(get_daemon)
) -> Message:
    return Message(message=await daemon.scanner.control.start_scheduler(body))


@router.post("/scheduler/stop", response_model=Message)
async def stop_scheduler(daemon: Daemon = Depends(get_daemon)) -> Message:
    return Message(message=await daemon.scanner.control.stop_scheduler())


@router.post("/watcher/start", response_model=Message)
async def start_watcher(
    body: WatcherStart | None = Body(default=None), daemon: Daemon = Depends(get_daemon)
) -> Message:
    return Message(message=await daemon.scanner.control.start_watcher(body))


@router.post("/watcher/stop", response_model=Message)
async def stop_watcher(daemon: Daemon = Depends(get_daemon)) -> Message:
    return Message(message=await daemon.scanner.control.stop_watcher())


@router.post("/analyze")
async def analyze(
    file_path: str = Query(..., min_length=1), daemon: Daemon = Depends(get_daemon)
) -> dict[str, Any]:
    return await daemon.scanner.analyze(file_path)
