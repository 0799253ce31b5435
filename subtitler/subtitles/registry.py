"""The record of every subtitle file subtitler wrote (path + sha256), so a file a user made, or
edited after we wrote it, is never overwritten unless the overwrite setting says so."""

from __future__ import annotations

from sqlalchemy import select

from subtitler.db import Database
from subtitler.db.models import WrittenSubtitle, utcnow


class WrittenSubtitles:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_media(self, media_path: str) -> dict[str, str]:
        """{subtitle path: sha256} of what we wrote for one media file."""
        async with self._db.read() as session:
            rows = await session.execute(
                select(WrittenSubtitle.path, WrittenSubtitle.sha256).where(
                    WrittenSubtitle.media_path == media_path
                )
            )
            return {path: sha or "" for path, sha in rows.all()}

    async def record(
        self, *, path: str, sha256: str, job_id: str, media_path: str, language: str | None
    ) -> None:
        async with self._db.write() as session:
            row = await session.get(WrittenSubtitle, path)
            if row is None:
                row = WrittenSubtitle(path=path)
                session.add(row)
            row.sha256 = sha256
            row.job_id = job_id
            row.media_path = media_path
            row.language = language
            row.written_at = utcnow()
