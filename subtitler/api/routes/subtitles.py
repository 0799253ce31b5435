"""Subtitle history API: /api/subtitles (every subtitle subtitler wrote)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon

router = APIRouter(prefix="/api/subtitles", tags=["subtitles"])

_MEDIA_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa"}


@router.get("")
async def list_subtitles(
    file_path: str | None = Query(default=None, max_length=4096),
    language: str | None = Query(default=None, max_length=32),
    q: str | None = Query(default=None, max_length=500),
    page: int = Query(default=1, ge=1, le=100_000),
    page_size: int = Query(default=50, ge=1, le=500),
    daemon: Daemon = Depends(get_daemon),
) -> dict[str, Any]:
    return await daemon.history.page(
        file_path=file_path, language=language, q=q, page=page, page_size=page_size
    )


@router.get("/{uid}")
async def get_subtitle(uid: str, daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return await daemon.history.item(uid)


@router.get("/{uid}/preview")
async def preview_subtitle(uid: str, daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return await daemon.history.preview(uid)


@router.get("/{uid}/download", response_class=FileResponse)
async def download_subtitle(uid: str, daemon: Daemon = Depends(get_daemon)) -> FileResponse:
    path = await daemon.history.existing_path(uid)
    suffix = Path(path).suffix.lstrip(".").lower()
    return FileResponse(
        path,
        filename=Path(path).name,
        media_type=_MEDIA_TYPES.get(suffix, "text/plain; charset=utf-8"),
    )


@router.delete("/{uid}")
async def delete_subtitle(uid: str, daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return await daemon.history.delete(uid)
