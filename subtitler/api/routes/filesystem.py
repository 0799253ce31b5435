"""Filesystem API: /api/filesystem."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query

from subtitler.api.deps import get_daemon
from subtitler.api.schemas import FsItem, FsListing
from subtitler.daemon import Daemon
from subtitler.system import filesystem

router = APIRouter(prefix="/api/filesystem", tags=["filesystem"])


@router.get("/browse", response_model=FsListing)
async def browse(
    path: str = Query(default="/"),
    show_hidden: bool = Query(default=False),
    directories_only: bool = Query(default=False),
) -> FsListing:
    listing = await asyncio.to_thread(
        filesystem.browse, path, show_hidden=show_hidden, directories_only=directories_only
    )
    return FsListing(**listing)


@router.get("/common-paths", response_model=list[FsItem])
async def common_paths(daemon: Daemon = Depends(get_daemon)) -> list[FsItem]:
    libraries = list(daemon.settings.get("library_paths") or [])
    items = await asyncio.to_thread(filesystem.common_paths, libraries)
    return [FsItem(**item) for item in items]
