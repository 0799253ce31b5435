"""Library API: /api/library (the indexed library, per file its subtitles and the rules' verdict,
and actions on files)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon
from subtitler.library.query import LibraryFilter, Status

router = APIRouter(prefix="/api/library", tags=["library"])


class LibraryFilterIn(BaseModel):
    q: str | None = Field(default=None, max_length=500)
    folder: str | None = Field(default=None, max_length=4096)
    missing: str | None = Field(default=None, max_length=32)
    status: Status | None = None


class LibraryAction(BaseModel):
    action: Literal["subtitle", "translate", "redo", "ignore", "unignore"]
    paths: list[str] | None = Field(default=None, max_length=5000)
    filter: LibraryFilterIn | None = None
    target_language: str | None = Field(default=None, max_length=32)
    quality_preset: str | None = Field(default=None, max_length=32)
    also_when_present: bool = Field(
        default=False,
        description=(
            "subtitle/translate: also write a subtitle where the file already has one in that "
            "language (without it, a single file answers 409 subtitle_exists)"
        ),
    )


class IgnoreFolder(BaseModel):
    folder: str = Field(min_length=1, max_length=4096)


@router.get("")
async def list_library(
    q: str | None = Query(default=None, max_length=500, description="Search in name and folder"),
    folder: str | None = Query(default=None, max_length=4096),
    missing: str | None = Query(default=None, max_length=32, description="No subtitle in this"),
    status: Status | None = Query(default=None),
    sort: str = Query(default="name"),
    order: Literal["asc", "desc"] = Query(default="asc"),
    page: int = Query(default=1, ge=1, le=100_000),
    page_size: int = Query(default=50, ge=1, le=500),
    daemon: Daemon = Depends(get_daemon),
) -> dict[str, Any]:
    flt = LibraryFilter(q=q, folder=folder, missing=missing, status=status)
    return await daemon.library_service.page(
        flt=flt, sort=sort, order=order, page=page, page_size=page_size
    )


@router.post("/actions")
async def library_action(
    body: LibraryAction, daemon: Daemon = Depends(get_daemon)
) -> dict[str, Any]:
    flt = LibraryFilter(**body.filter.model_dump()) if body.filter else None
    return await daemon.library_service.act(
        action=body.action,
        paths=body.paths,
        flt=flt,
        target_language=body.target_language,
        quality_preset=body.quality_preset,
        also_when_present=body.also_when_present,
    )


@router.post("/ignore-folder")
async def ignore_folder(body: IgnoreFolder, daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return await daemon.library_service.ignore_folder(folder=body.folder)


@router.post("/unignore-folder")
async def unignore_folder(
    body: IgnoreFolder, daemon: Daemon = Depends(get_daemon)
) -> dict[str, Any]:
    """Stop ignoring a folder: its `.subtitlerignore` goes, its files are scanned again."""
    return await daemon.library_service.unignore_folder(folder=body.folder)
