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
from subtitler.subtitles.cues import Cue, Segment, Word
from subtitler.subtitles.formats import render


def cues_document(
    cues: Sequence[Cue], segments: Sequence[Segment], *, language: str | None,
    duration: float | None,
) -> dict[str, Any]:  # fmt: skip
    """Plain data (it crosses the worker pipe and goes into a JSON column)."""
    return {
        "language": language,
        "duration": duration,
        "cues": [
            {"start": c.start, "end": c.end, "lines": list(c.lines)}
            | ({"speakers": list(c.speakers)} if c.speakers else {})
            for c in cues
        ],
        "segments": [
            {
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "words": [
                    [w.start, w.end, w.word, w.probability, *([w.speaker] if w.speaker else [])]
                    for w in s.words
                ],
            }
            | ({"speaker": s.speaker} if s.speaker else {})
            for s in segments
        ],
    }


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
        async with self._db.read() as session:
            status = await session.scalar(select(Job.status).where(Job.id == job_id))
            if status is None:
                raise NotFound(f"Job {job_id} not found", code="job_not_found")
            row = await session.get(JobCues, job_id)
        if row is None:
            raise NotFound(
                f"Job {job_id} has no subtitle (status {status}; a job with no speech writes none)",
                code="subtitle_not_found",
            )
        return row

    async def render(self, job_id: str, *, fmt: str) -> tuple[str, JobCues]:
        row = await self.load(job_id)
        cues, segments = to_cues(row.cues), to_segments(row.segments)
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
