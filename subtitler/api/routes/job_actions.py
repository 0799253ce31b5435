"""Job actions beyond the contract's: PATCH priority, bulk actions, redo, and the results
(`/subtitle?format=` rendered from the stored cues, `/segments` with words)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response, status

from subtitler.api.deps import get_daemon
from subtitler.api.schemas_jobs import (
    BulkRequest,
    BulkResult,
    CueOut,
    JobPatch,
    RedoRequest,
    SegmentOut,
    SegmentsOut,
    WordOut,
)
from subtitler.daemon import Daemon
from subtitler.jobs.filters import JobFilter
from subtitler.jobs.results import to_segments
from subtitler.jobs.schemas import JobOut
from subtitler.media.languages import to_alpha3_b

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

MEDIA_TYPES = {
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
    "ass": "text/x-ssa",
    "lrc": "text/plain",
    "txt": "text/plain",
    "json": "application/json",
}


@router.post("/bulk", response_model=BulkResult)
async def bulk_action(body: BulkRequest, daemon: Daemon = Depends(get_daemon)) -> BulkResult:
    filters = JobFilter(**body.filter.model_dump()) if body.filter is not None else None
    result = await daemon.control.bulk(
        action=body.action, ids=body.ids, filters=filters, priority=body.priority
    )
    return BulkResult.model_validate(result)


@router.patch("/{job_id}", response_model=JobOut)
async def patch_job(job_id: str, body: JobPatch, daemon: Daemon = Depends(get_daemon)) -> JobOut:
    return JobOut.model_validate(await daemon.control.set_priority(job_id, priority=body.priority))


@router.post("/{job_id}/redo", response_model=JobOut, status_code=status.HTTP_201_CREATED)
async def redo_job(
    job_id: str, body: RedoRequest | None = None, daemon: Daemon = Depends(get_daemon)
) -> JobOut:
    given = (body or RedoRequest()).model_dump(exclude_none=True)
    if "callback_url" in given:
        given["callback_url"] = str(given["callback_url"])
    return JobOut.model_validate(await daemon.jobs.redo(job_id, **given))


# Text types first (srt is the default): a generated client takes the first content type, and
# must not JSON-decode an srt/vtt/ass/lrc/txt answer.
SUBTITLE_CONTENT = {
    t: {"schema": {"type": "string"}}
    for t in sorted(set(MEDIA_TYPES.values()), key=lambda t: (t == "application/json", t))
}


@router.get(
    "/{job_id}/subtitle",
    response_class=Response,
    responses={200: {"content": SUBTITLE_CONTENT, "description": "The subtitle, as asked"}},
)
async def job_subtitle(
    job_id: str,
    format: Literal["srt", "vtt", "ass", "lrc", "txt", "json"] = Query(default="srt"),
    daemon: Daemon = Depends(get_daemon),
) -> Response:
    text, row = await daemon.results.render(job_id, fmt=format)
    job = await daemon.queue.get(job_id)
    stem = Path(job.file_name).stem or "subtitle"
    name = f"{stem}.{to_alpha3_b(row.language) if row.language else 'und'}.{format}"
    safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in name)
    return Response(
        text, media_type=f"{MEDIA_TYPES[format]}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )  # fmt: skip


@router.get("/{job_id}/segments", response_model=SegmentsOut)
async def job_segments(job_id: str, daemon: Daemon = Depends(get_daemon)) -> SegmentsOut:
    row = await daemon.results.load(job_id)
    return SegmentsOut(
        job_id=job_id,
        language=row.language,
        duration=row.duration,
        cues=[
            CueOut(
                start=c["start"], end=c["end"], lines=list(c["lines"]), text="\n".join(c["lines"])
            )
            for c in row.cues
        ],
        segments=[
            SegmentOut(
                start=s.start,
                end=s.end,
                text=s.text.strip(),
                words=[
                    WordOut(
                        start=w.start, end=w.end, word=w.word.strip(), probability=w.probability
                    )
                    for w in s.words
                ],
            )
            for s in to_segments(row.segments)
        ],
    )
