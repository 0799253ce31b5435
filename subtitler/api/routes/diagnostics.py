"""System page and Logs page API: /api/system/* (warnings, about, tasks, setting specs, path
check, API key regeneration), /api/logs, and the event stream's token."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from subtitler.api import stream_token
from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon
from subtitler.security.reveal import refuse_unless_same_origin
from subtitler.settings.registry import REGISTRY
from subtitler.settings.service import generate_api_key
from subtitler.system import logs as logfile
from subtitler.system.dependencies import lock_report
from subtitler.system.warnings import collect_warnings

router = APIRouter(tags=["diagnostics"])


@router.post("/api/events/token")
async def events_token() -> dict[str, Any]:
    """A short-lived token that opens /api/events?token=... (no API key in the URL)."""
    token, ttl = stream_token.issue()
    return {"token": token, "expires_in": ttl}


@router.get("/api/system/warnings")
async def system_warnings(daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return {"warnings": await collect_warnings(daemon)}


@router.get("/api/system/about")
async def system_about(daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    import sys

    return {
        "version": daemon.version,
        "node_id": daemon.config.node_id,
        "uptime_seconds": daemon.uptime_seconds,
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "data_dir": str(daemon.config.data_dir.resolve()),
        "database": "sqlite" if daemon.db.is_sqlite else "postgresql",
        "ffmpeg": shutil.which("ffmpeg"),
        # The lock the environment was installed from and each package's locked/installed version.
        "dependencies": await asyncio.to_thread(lock_report),
    }


@router.get("/api/system/tasks")
async def system_tasks(daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return {"tasks": daemon.tasks.list()}


@router.post("/api/system/tasks/{name}/run", status_code=202)
async def run_task(name: str, daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return await daemon.tasks.run_now(name)


@router.get("/api/system/setting-specs")
async def setting_specs() -> dict[str, Any]:
    """What the Settings page needs to render each setting: type, choices, bounds, flags."""
    return {
        "specs": [
            {
                "key": s.key,
                "category": s.category,
                "value_type": s.value_type,
                "choices": list(s.choices) if s.choices else None,
                "minimum": s.minimum,
                "maximum": s.maximum,
                "secret": s.secret,
                "internal": s.internal,
                "advanced": s.advanced,
                "description": s.description,
            }
            for s in REGISTRY.values()
        ]
    }


@router.get("/api/system/check-path")
async def check_path(path: str = Query(min_length=1, max_length=4096)) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        p = Path(path)
        return {
            "path": path,
            "absolute": p.is_absolute(),
            "exists": p.exists(),
            "is_dir": p.is_dir(),
            "readable": os.access(p, os.R_OK),
            "writable": os.access(p, os.W_OK),
        }

    return await asyncio.to_thread(check)


@router.get("/api/system/api-key")
async def read_api_key(request: Request, daemon: Daemon = Depends(get_daemon)) -> JSONResponse:
    """The daemon's API key in clear, for the Settings page's Show and Copy (GET /api/settings
    masks it). Admin keys only (an `asr` token is refused by the key check) and only to this
    origin's own pages: a request from any other page gets 403 whatever it sends."""
    refuse_unless_same_origin(request.scope)
    return JSONResponse(
        {"api_key": str(daemon.settings.get("api_key") or "")},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.post("/api/system/api-key/regenerate")
async def regenerate_api_key(daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    key = generate_api_key()
    await daemon.settings.update("api_key", key)
    return {"api_key": key}


@router.get("/api/logs")
async def read_logs(
    after: int | None = Query(default=None, ge=0, description="Byte offset from a last call"),
    level: str | None = Query(default=None, max_length=10),
    q: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=500, ge=1, le=5000),
    before: int | None = Query(
        default=None, ge=0, description="Byte offset (a last call's `start`): earlier lines"
    ),
    daemon: Daemon = Depends(get_daemon),
) -> dict[str, Any]:
    """The log's lines, filtered here by level and text (never access-logged itself)."""
    return await asyncio.to_thread(
        logfile.tail, daemon.config.logs_dir, after=after, level=level, q=q, limit=limit,
        before=before,
    )  # fmt: skip


@router.get("/api/logs/download", response_class=StreamingResponse)
async def download_logs(daemon: Daemon = Depends(get_daemon)) -> StreamingResponse:
    """The log file as it was when the request came (its size then), while it keeps growing."""
    snap = await asyncio.to_thread(logfile.Snapshot, daemon.config.logs_dir)
    return StreamingResponse(
        snap.chunks(),
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Length": str(snap.size),
            "Content-Disposition": 'attachment; filename="subtitler.log"',
            "Cache-Control": "no-store",
        },
    )
