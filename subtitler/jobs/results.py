"""The cues of completed jobs, kept in the database (table job_cues) so that
`GET /api/jobs/{id}/subtitle?format=` renders any format on the fly and `/segments` serves the
words, whatever format was written to disk and even after the file was moved or edited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from subtitler.db import Database
from subtitler.db.models import Job
from subtitler.db.models_jobs import JobCues
from subtitler.errors import NotFound
from subtitler.jobs.states import JobStatus, JobType
from subtitler.subtitles.cues import Cue, Segment, Word, cues_document
from subtitler.subtitles.formats import render

__all__ = ["JobResults", "cues_document"]


class JobResults:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def store(self, *, job_id: str, document: dict[str, Any]) -> None:
        async with self._db.write() as session:
            row = await session.get(JobCues, job_id)
            if row is None:
                row = JobCues(job_id=job_id)
                session.add(row)
            row.language = document.get("language")
            row.duration = document.get("duration")
            row.cues = list(document.get("cues") or [])
            row.segments = list(document.get("segments") or [])

    async def load(self, job_id: str) -> JobCues:
        return (await self._load(job_id))[0]

    async def _load(self, job_id: str) -> tuple[JobCues, str]:
        async with self._db.read() as session:
            found = (
                await session.execute(select(Job.status, Job.job_type).where(Job.id == job_id))
            ).first()
            if found is None:
                raise NotFound(f"Job {job_id} not found", code="job_not_found")
            row = await session.get(JobCues, job_id)
        status, job_type = found
        if row is None:
            why = "it has not written one yet" if status != JobStatus.COMPLETED else (
                "a job with no speech writes none"
            )  # fmt: skip
            raise NotFound(f"Job {job_id} has no subtitle (status {status}; {why})",
                           code="subtitle_not_found")  # fmt: skip
        return row, job_type

    async def render(self, job_id: str, *, fmt: str) -> tuple[str, JobCues]:
        row, job_type = await self._load(job_id)
        cues, segments = to_cues(row.cues), to_segments(row.segments)
        if job_type == JobType.SUBTITLE_TRANSLATION:
            # a subtitle's cues carry its markup (<i>, {\anN}): rendered as the file was
            from subtitler.translation.output import render_translated

            text = render_translated(cues, fmt=fmt, language=row.language,
                                     duration=row.duration, segments=segments)  # fmt: skip
        else:
            text = render(cues, fmt=fmt, segments=segments, language=row.language,
                          duration=row.duration)  # fmt: skip
        return text, row


def to_cues(data: Sequence[dict[str, Any]]) -> list[Cue]:
    return [
        Cue(
            start=c["start"],
            end=c["end"],
            lines=tuple(c["lines"]),
            speakers=tuple(c.get("speakers") or ()),
        )
        for c in data
    ]


def to_segments(data: Sequence[dict[str, Any]]) -> list[Segment]:
    return [
        Segment(
            start=s["start"],
            end=s["end"],
            text=s["text"],
            words=tuple(
                Word(
                    start=w[0],
                    end=w[1],
                    word=w[2],
                    probability=w[3],
                    speaker=w[4] if len(w) > 4 else None,
                )
                for w in s.get("words") or []
            ),
            speaker=s.get("speaker"),
        )
        for s in data
    ]
