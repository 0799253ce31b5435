"""System endpoints: /, /health, /api/status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon

router = APIRouter(tags=["system"])


@router.get("/")
async def root(daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return {
        "name": "subtitler",
        "version": daemon.version,
        "status": "running",
        "message": "Frontend not built. Access API docs at /docs",
    }


@router.get("/health")
async def health(daemon: Daemon = Depends(get_daemon)) -> Any:
    try:
        report = await daemon.health()
    except Exception as exc:
        return JSONResponse(
            {
                "status": "unhealthy",
                "database": "unreachable",
                "detail": f"database unreachable: {type(exc).__name__}: {exc}",
                "code": "database_unreachable",
            },
            status_code=503,
        )
    if report.get("problems"):
        detail = "degraded: " + "; ".join(report["problems"])
        return JSONResponse({**report, "detail": detail, "code": "degraded"}, status_code=503)
    return report


@router.get("/api/status")
async def api_status(daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return await daemon.status()
