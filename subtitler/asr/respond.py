"""Turn a finished (or failing) ASR job into the HTTP answer, with or without a heartbeat."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import JSONResponse, Response, StreamingResponse

from subtitler.asr.output import media_type
from subtitler.asr.service import AsrService
from subtitler.db.models import Job
from subtitler.jobs.states import JobStatus
from subtitler.media.languages import display_name, whisper_code

HEARTBEAT_OUTPUTS = ("srt", "vtt", "txt", "json")
NO_SPEECH = "subtitler found no speech in this audio.\n"


def error_status(code: str | None) -> int:
    if code and (code.startswith("media_") or code in ("no_audio_stream", "empty_upload")):
        return 422
    if code in ("cancelled", "model_unavailable", "diarization_hub_unreachable"):
        return 503
    if code and code.startswith("diarization_"):  # no token, terms, not installed: one sentence
        return 422
    return 500


def error_body(job: Job, output: str) -> str:
    """A body Bazarr can never save as a subtitle: JSON, or a plain sentence."""
    detail = job.error or f"the job ended {job.status}"
    if output in ("json", "verbose_json", "openai_json", "diarized_json"):
        return json.dumps({"detail": detail, "code": job.error_code or job.status})
    return f"subtitler could not transcribe this audio: {detail} ({job.error_code})\n"


def answer_text(service: AsrService, job: Job, output: str) -> str:
    text = service.result_text(job)
    if not text.strip():
        return NO_SPEECH  # never whitespace only: Bazarr would save an empty subtitle
    return text


def detect_answer(job: Job) -> dict[str, Any]:
    code = job.source_lang if job.status == JobStatus.COMPLETED else None
    if not code:
        return {"detected_language": "unknown", "language_code": "und", "confidence": 0.0}
    return {
        "detected_language": display_name(code).lower(),
        "language_code": whisper_code(code),
        "confidence": job.source_lang_confidence or 0.0,
    }


async def heartbeat_stream(
    service: AsrService, job: Job, *, interval: float, render: Any
) -> AsyncIterator[str]:
    """Newlines while the job runs, then its answer (the job goes on if the client leaves)."""
    waiter = asyncio.ensure_future(service.wait(job.id))
    try:
        while True:
            done, _ = await asyncio.wait({waiter}, timeout=interval)
            if done:
                break
            yield "\n"
        yield render(waiter.result())
    finally:
        if not waiter.done():
            waiter.cancel()


async def asr_response(
    service: AsrService,
    job: Job,
    *,
    output: str,
    heartbeat: bool,
    interval: float,
    headers: dict[str, str],
) -> Response:
    """With the heartbeat: 200 and the headers now, newlines, then the answer. Without it: wait,
    then 200 with the answer or a non-200 JSON error with `detail`."""
    if heartbeat and output in HEARTBEAT_OUTPUTS:

        def render(final: Job) -> str:
            if final.status == JobStatus.COMPLETED:
                return answer_text(service, final, output)
            return error_body(final, output)

        return StreamingResponse(
            heartbeat_stream(service, job, interval=interval, render=render),
            media_type=media_type(output),
            headers=headers,
        )
    final = await service.wait(job.id)
    if final.status != JobStatus.COMPLETED:
        return JSONResponse(
            {"detail": final.error or f"the job ended {final.status}",
             "code": final.error_code or final.status},
            status_code=error_status(final.error_code),
        )  # fmt: skip
    return Response(answer_text(service, final, output), media_type=media_type(output),
                    headers=headers)  # fmt: skip
