"""GET/DELETE /api/subtitles: the subtitles we wrote, read from `written_subtitles` (which
"clear completed" never touches), with a cue preview, the file, and a delete that removes our
file only when it is still exactly what we wrote (a user's edit is never thrown away)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import pysubs2
from sqlalchemy import ColumnElement, delete, func, or_, select

from subtitler.db import Database
from subtitler.db.models import WrittenSubtitle
from subtitler.errors import BadRequest, Conflict, NotFound
from subtitler.jobs.schemas import as_utc_iso
from subtitler.media.languages import parse_language
from subtitler.subtitles.naming import is_forced_name

logger = logging.getLogger(__name__)

PREVIEW_MAX_BYTES = 8 * 1024 * 1024  # a subtitle larger than this is not one we wrote
PREVIEW_MAX_CUES = 2000


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SubtitleHistory:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def page(
        self,
        *,
        file_path: str | None = None,
        language: str | None = None,
        q: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> dict[str, Any]:
        where: list[ColumnElement[bool]] = [WrittenSubtitle.uid.is_not(None)]
        if file_path:
            where.append(WrittenSubtitle.media_path == file_path)
        if language:
            code = parse_language(language)
            if code is None:
                raise BadRequest(f"Unknown language: {language}", code="invalid_language")
            where.append(WrittenSubtitle.language == code)
        if q:
            like = f"%{_escape(q.strip())}%"
            where.append(
                or_(
                    WrittenSubtitle.media_path.ilike(like, escape="\\"),
                    WrittenSubtitle.path.ilike(like, escape="\\"),
                )
            )
        async with self._db.read() as session:
            total = await session.scalar(
                select(func.count()).select_from(WrittenSubtitle).where(*where)
            )
            rows = (
                await session.scalars(
                    select(WrittenSubtitle)
                    .where(*where)
                    .order_by(WrittenSubtitle.written_at.desc(), WrittenSubtitle.path)
                    .limit(page_size)
                    .offset((page - 1) * page_size)
                )
            ).all()
        exists = await asyncio.to_thread(lambda: [Path(r.path).is_file() for r in rows])
        items = [self._item(r, e) for r, e in zip(rows, exists, strict=True)]
        return {"items": items, "total": int(total or 0), "page": page, "page_size": page_size}

    @staticmethod
    def _item(row: WrittenSubtitle, exists: bool) -> dict[str, Any]:
        return {
            "id": row.uid,
            "job_id": row.job_id,
            "video_path": row.media_path,
            "subtitle_path": row.path,
            "language": row.language,
            "format": Path(row.path).suffix.lstrip(".").lower() or None,
            "created_at": as_utc_iso(row.written_at),
            "exists": exists,
            "forced": is_forced_name(row.path),  # Film.eng.forced.srt (issue 22)
        }

    async def get(self, uid: str) -> WrittenSubtitle:
        async with self._db.read() as session:
            row = await session.scalar(select(WrittenSubtitle).where(WrittenSubtitle.uid == uid))
        if row is None:
            raise NotFound(f"No subtitle {uid} in the history", code="subtitle_not_found")
        return row

    async def item(self, uid: str) -> dict[str, Any]:
        row = await self.get(uid)
        return self._item(row, await asyncio.to_thread(os.path.isfile, row.path))

    async def existing_path(self, uid: str) -> str:
        row = await self.get(uid)
        if not await asyncio.to_thread(os.path.isfile, row.path):
            raise NotFound(f"The file is gone: {row.path}", code="subtitle_file_gone")
        return row.path

    async def preview(self, uid: str) -> dict[str, Any]:
        path = await self.existing_path(uid)

        def load() -> dict[str, Any]:
            if Path(path).stat().st_size > PREVIEW_MAX_BYTES:
                raise BadRequest("The subtitle is too large to preview", code="too_large")
            try:
                subs = pysubs2.load(path, encoding="utf-8")
            except Exception as exc:  # pysubs2 raises many kinds for a file it cannot read
                raise BadRequest(
                    f"Cannot read the subtitle: {type(exc).__name__}", code="unreadable_subtitle"
                ) from None
            events = [e for e in subs.events if not e.is_comment]
            cues = [
                {"start": e.start / 1000, "end": e.end / 1000, "text": e.plaintext}
                for e in events[:PREVIEW_MAX_CUES]
            ]
            return {"id": uid, "path": path, "cues": cues, "total_cues": len(events)}

        return await asyncio.to_thread(load)

    async def delete(self, uid: str) -> dict[str, Any]:
        row = await self.get(uid)
        path, expected = row.path, row.sha256 or ""

        def remove() -> bool:
            if not Path(path).is_file():
                return False
            if expected and _sha256(path) != expected:
                raise Conflict(
                    "The subtitle was changed after subtitler wrote it; it was not deleted",
                    code="subtitle_changed",
                )
            Path(path).unlink()
            return True

        removed = await asyncio.to_thread(remove)
        async with self._db.write() as session:
            await session.execute(delete(WrittenSubtitle).where(WrittenSubtitle.uid == uid))
        logger.info("history: %s %s", "deleted" if removed else "forgot (file gone)", path)
        return {"id": uid, "deleted_file": removed}
