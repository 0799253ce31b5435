"""OpenAI-compatible speech-to-text: /v1/audio/transcriptions and /v1/audio/translations.

Routed like Bazarr's /asr (subtitler.asr.routing): a node with no worker sends the request on to
a node of the cluster that has one; with no worker anywhere the answer is 503 `no_worker` with
Retry-After (and OpenAI's `error` object), nothing queued, nothing left in the spool."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from subtitler.api.deps import get_daemon
from subtitler.asr import routing
from subtitler.asr.respond import asr_response
from subtitler.asr.service import AsrRequest
from subtitler.asr.upload import receive_bounded_upload
from subtitler.daemon import Daemon
from subtitler.errors import Unprocessable
from subtitler.media.languages import parse_language
from subtitler.settings.specs.transcription import QUALITY_PRESETS

router = APIRouter(prefix="/v1/audio", tags=["openai"])

FORMATS = {
    "json": "openai_json",
    "text": "txt",
    "srt": "srt",
    "vtt": "vtt",
    "verbose_json": "verbose_json",
    "diarized_json": "diarized_json",  # segments with `speaker` (pyannote.audio, issue 24)
}


async def _run(request: Request, daemon: Daemon, task: str) -> Response:
    upload = await receive_bounded_upload(
        request,
        spool_dir=daemon.config.spool_dir,
        file_fields=("file",),
        settings=daemon.settings.get,
    )
    fields = upload.fields
    try:
        fmt = fields.get("response_format", "json") or "json"
        if fmt not in FORMATS:
            raise Unprocessable(
                f"response_format must be one of {', '.join(FORMATS)}; got {fmt!r}",
                code="bad_response_format",
            )
        language = fields.get("language") or None
        if language and parse_language(language) is None:
            raise Unprocessable(f"language: unknown language {language!r}", code="unknown_language")
        model = (fields.get("model") or "").strip().lower()
        req = AsrRequest(
            kind="asr", task=task, language=language if task == "transcribe" else None,
            output=FORMATS[fmt], encode=True, initial_prompt=fields.get("prompt") or None,
            upload_name=upload.filename, preset=model if model in QUALITY_PRESETS else None,
            diarize=fmt == "diarized_json",
        )  # fmt: skip
    except Unprocessable:
        upload.discard()
        raise
    routed = await routing.elsewhere(
        path=request.url.path, query=request.url.query, upload=upload,
        local_workers=daemon.pool.list(), cluster=daemon.cluster,
        forwarded_by=request.headers.get(routing.FORWARDED_BY),
        api_key=str(daemon.settings.get("api_key") or ""), file_field="file",
        form=dict(fields),
    )  # fmt: skip
    if routed is not None:
        if isinstance(routed, JSONResponse) and routed.status_code >= 400:
            return _openai_error(routed)
        return routed
    assert upload.path is not None
    job = await daemon.asr.submit(
        req, audio_path=upload.path, audio_sha256=upload.sha256, channel="openai"
    )
    response = await asr_response(
        daemon.asr, job, output=req.output, heartbeat=False, interval=0, headers={}
    )
    if isinstance(response, JSONResponse) and response.status_code >= 400:
        return _openai_error(response)
    return response


def _openai_error(response: JSONResponse) -> JSONResponse:
    """Our error body plus OpenAI's `error` object, so both kinds of client understand it."""
    body = json.loads(bytes(response.body))
    kind = "invalid_request_error" if response.status_code < 500 else "server_error"
    body["error"] = {"message": body["detail"], "type": kind, "code": body.get("code")}
    kept = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
    return JSONResponse(body, status_code=response.status_code, headers=kept)


@router.post("/transcriptions")
async def transcriptions(request: Request, daemon: Daemon = Depends(get_daemon)) -> Response:
    """Form fields: `file`, `model` (fast/balanced/best pick a preset; any other name, e.g.
    whisper-1, uses the asr_quality_preset setting), `language`, `prompt`, `response_format`."""
    return await _run(request, daemon, "transcribe")


@router.post("/translations")
async def translations(request: Request, daemon: Daemon = Depends(get_daemon)) -> Response:
    """Like /transcriptions, into English."""
    return await _run(request, daemon, "translate")
