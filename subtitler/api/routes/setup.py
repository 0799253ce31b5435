"""Setup Wizard API: /api/setup."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from subtitler.api.deps import get_daemon
from subtitler.api.schemas import Message, SetupResult, SetupStatus, StandaloneSetup
from subtitler.daemon import Daemon

router = APIRouter(prefix="/api/setup", tags=["setup"])


@router.get("/status", response_model=SetupStatus)
async def setup_status(daemon: Daemon = Depends(get_daemon)) -> SetupStatus:
    return SetupStatus(**daemon.setup.status())


@router.post("/standalone", response_model=SetupResult)
async def standalone(body: StandaloneSetup, daemon: Daemon = Depends(get_daemon)) -> SetupResult:
    result = await daemon.setup.standalone(
        library_paths=body.library_paths,
        scan_rules=[rule.model_dump() for rule in body.scan_rules],
        worker_config=body.worker_config.model_dump() if body.worker_config else None,
        scanner_config=body.scanner_config.model_dump() if body.scanner_config else None,
        first_scan=body.first_scan,
    )
    return SetupResult(**result)


@router.post("/bazarr-slave", response_model=SetupResult)
async def bazarr_slave(request: Request, daemon: Daemon = Depends(get_daemon)) -> SetupResult:
    return SetupResult(**await daemon.setup.bazarr_slave(request_host=request.url.hostname))


@router.post("/skip", response_model=Message)
async def skip(daemon: Daemon = Depends(get_daemon)) -> Message:
    return Message(**await daemon.setup.skip())
