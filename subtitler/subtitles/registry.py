"""The record of every subtitle file subtitler wrote (path + sha256), so a file a user made, or
edited after we wrote it, is never overwritten unless the overwrite setting says so.

A job records what it is about to write (an intent: path + sha256) before the file is renamed
into place; the file's record replaces the intent once the job is done. A job re-run after a crash
in between finds the intent, sees the file on disk has its hash, and knows the file is ours."""

from __future__ import annotations

from sqlalchemy import delete, select

from subtitler.db import Database
from subtitler.db.models import SubtitleWriteIntent, WrittenSubtitle, utcnow


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

    async def intents_for_media(self, media_path: str) -> dict[str, str]:
        """{subtitle path: sha256} of what a job was about to write for one media file and whose
        record was never made (the job crashed, or its result was lost)."""
        async with self._db.read() as session:
            rows = await session.execute(
                select(SubtitleWriteIntent.path, SubtitleWriteIntent.sha256).where(
                    SubtitleWriteIntent.media_path == media_path
                )
            )
            return {path: sha for path, sha in rows.all()}

    async def intend(
        self, *, path: str, sha256: str, job_id: str, media_path: str, language: str | None
    ) -> None:
        """Record, before the file is renamed into place, that this job writes it."""
        async with self._db.write() as session:
            row = await session.get(SubtitleWriteIntent, path)
            if row is None:
                row = SubtitleWriteIntent(path=path, sha256=sha256)
                session.add(row)
            row.sha256 = sha256
            row.job_id = job_id
            row.media_path = media_path
            row.language = language
            row.created_at = utcnow()

    async def discard_intents(self, job_id: str) -> None:
        """The job ended without a file to record (it failed): its intents go."""
        async with self._db.write() as session:
            await session.execute(
                delete(SubtitleWriteIntent).where(SubtitleWriteIntent.job_id == job_id)
            )

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
            await session.execute(
                delete(SubtitleWriteIntent).where(SubtitleWriteIntent.path == path)
            )
