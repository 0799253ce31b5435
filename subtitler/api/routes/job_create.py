"""POST /api/jobs with Idempotency-Key, and the list filters as a dependency."""

from __future__ import annotations

from fastapi import Query
from fastapi.responses import JSONResponse

from subtitler.api.schemas import JobCreate
from subtitler.daemon import Daemon
from subtitler.errors import BadRequest
from subtitler.jobs.filters import JobFilter
from subtitler.jobs.idempotency import MAX_KEY_LENGTH, body_digest
from subtitler.jobs.schemas import JobOut
from subtitler.jobs.states import CHANNELS
from subtitler.media.languages import parse_language

ROUTE = "POST /api/jobs"
CHANNEL_PATTERN = f"^({'|'.join(CHANNELS)})?$"  # another value is a 422, never an empty list


def job_filter(
    channel: str | None = Query(
        default=None, pattern=CHANNEL_PATTERN, description=f"One of {', '.join(CHANNELS)}"
    ),
    q: str | None = Query(default=None, max_length=500, description="Text in the file path"),
    language: str | None = Query(default=None, max_length=16, description="Source or target"),
    error_code: str | None = Query(default=None, max_length=64),
) -> JobFilter:
    lang = (parse_language(language) or language) if language else None
    return JobFilter(channel=channel or None, q=q or None, language=lang,
                     error_code=error_code or None)  # fmt: skip


async def create_idempotent(daemon: Daemon, body: JobCreate, key: str | None) -> JSONResponse:
    if key is None:
        return await _create(daemon, body, None)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadRequest(
            f"Idempotency-Key: 1-{MAX_KEY_LENGTH} characters", code="bad_idempotency_key"
        )
    async with daemon.idempotency.hold(key=key, route=ROUTE):  # the others replay its answer
        return await _create(daemon, body, key)


async def _create(daemon: Daemon, body: JobCreate, key: str | None) -> JSONResponse:
    payload = body.model_dump(mode="json")
    digest = body_digest(payload)
    if key is not None:
        replay = await daemon.idempotency.replay(key=key, route=ROUTE, digest=digest)
        if replay is not None:
            status, content = replay
            return JSONResponse(
                content, status_code=status, headers={"Idempotent-Replayed": "true"}
            )
    fields = body.model_dump()
    fields["callback_url"] = str(body.callback_url) if body.callback_url else None
    job = await daemon.jobs.create(**fields)
    content = JobOut.model_validate(job).model_dump(mode="json")
    if key is not None:
        await daemon.idempotency.save(key=key, route=ROUTE, digest=digest, status=201, body=content)
    return JSONResponse(content, status_code=201)
