"""Bazarr's Whisper provider routes at the root: /asr, /detect-language, /status."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from subtitler.api.deps import get_daemon
from subtitler.asr import routing
from subtitler.asr.respond import asr_response, detect_answer, heartbeat_stream
from subtitler.asr.service import AsrRequest
from subtitler.asr.upload import Upload, receive_bounded_upload
from subtitler.daemon import Daemon
from subtitler.errors import Unprocessable
from subtitler.jobs.service import speaker_options
from subtitler.media.languages import parse_language

router = APIRouter(tags=["bazarr"])


def _language(value: str | None) -> str | None:
    if not value:
        return None
    if parse_language(value) is None:
        raise Unprocessable(f"language: unknown language code {value!r}", code="unknown_language")
    return value


def _forced(value: str | None) -> str | None:
    """The forced subtitle's language as ISO 639-2 (422 when unknown)."""
    if not value:
        return None
    code = parse_language(value)
    if code is None:
        raise Unprocessable(f"forced: unknown language code {value!r}", code="unknown_language")
    return code


async def _elsewhere(request: Request, daemon: Daemon, upload: Upload) -> Response | None:
    """None: this node runs it; else another node's answer or 503 (subtitler.asr.routing)."""
    return await routing.elsewhere(
        path=request.url.path, query=request.url.query, upload=upload,
        local_workers=daemon.pool.list(), cluster=daemon.cluster,
        forwarded_by=request.headers.get(routing.FORWARDED_BY),
        api_key=str(daemon.settings.get("api_key") or ""),
    )  # fmt: skip


def _attachment(name: str | None, output: str) -> dict[str, str]:
    safe = "".join(c if c.isascii() and c not in '"\\\r\n' else "_" for c in (name or ""))
    return {
        "Asr-Engine": "faster_whisper",
        "Content-Disposition": f'attachment; filename="{safe or "audio_file"}.{output}"',
    }


@router.post("/asr", response_class=Response)
async def asr(
    request: Request,
    task: str = Query(default="transcribe", pattern="^(transcribe|translate)$"),
    language: str | None = Query(default=None),
    output: str = Query(default="txt", pattern="^(txt|vtt|srt|tsv|json)$"),
    encode: bool = Query(default=True),
    initial_prompt: str | None = Query(default=None),
    vad_filter: bool | None = Query(default=None),
    word_timestamps: bool | None = Query(default=None),
    video_file: str | None = Query(default=None),
    forced: str | None = Query(
        default=None,
        description="A forced subtitle in this language (e.g. en): cues only for the passages "
        "spoken in another language than the main one (`language`, else detected).",
    ),
    diarize: bool = Query(default=False, description="Tell speakers apart (pyannote.audio)"),
    min_speakers: int | None = Query(default=None, ge=1, le=50),
    max_speakers: int | None = Query(default=None, ge=1, le=50),
    daemon: Daemon = Depends(get_daemon),
) -> Response:
    """Transcribe (or translate to English) an upload; `audio_file` is s16le 16 kHz mono PCM
    with `encode=false`, any container with `encode=true`. The answer is the subtitle. A node
    with no worker sends the request on to a node of the cluster that has one; with no worker
    anywhere the answer is 503 with Retry-After (try again later)."""
    whisper_language = _language(language)
    forced_code = _forced(forced)
    # refused before the upload is read: with the heartbeat on, a failure after it would be a 200
    speaker_options(
        diarize=diarize, num_speakers=None, min_speakers=min_speakers, max_speakers=max_speakers
    )
    upload = await receive_bounded_upload(
        request,
        spool_dir=daemon.config.spool_dir,
        file_fields=("audio_file",),
        settings=daemon.settings.get,
    )
    if (routed := await _elsewhere(request, daemon, upload)) is not None:
        return routed
    req = AsrRequest(
        kind="asr", task=task, language=whisper_language, output=output, encode=encode,
        initial_prompt=initial_prompt, vad_filter=vad_filter, word_timestamps=word_timestamps,
        video_file=video_file, upload_name=upload.filename, forced=forced_code,
        diarize=diarize,
        min_speakers=min_speakers, max_speakers=max_speakers,
    )  # fmt: skip
    assert upload.path is not None
    job = await daemon.asr.submit(req, audio_path=upload.path, audio_sha256=upload.sha256)
    return await asr_response(
        daemon.asr,
        job,
        output=output,
        heartbeat=bool(daemon.settings.get("asr_heartbeat")),
        interval=float(daemon.settings.get("asr_heartbeat_seconds")),
        headers=_attachment(upload.filename, output),
    )


@router.post("/detect-language")
async def detect_language(
    request: Request,
    encode: bool = Query(default=True),
    video_file: str | None = Query(default=None),
    daemon: Daemon = Depends(get_daemon),
) -> Response:
    """The audio's language from three 30 s windows (10/50/90 %), decoded alone: a full-length
    upload is never decoded whole. `language_code` `und` means detection failed."""
    upload = await receive_bounded_upload(
        request,
        spool_dir=daemon.config.spool_dir,
        file_fields=("audio_file",),
        settings=daemon.settings.get,
    )
    if (routed := await _elsewhere(request, daemon, upload)) is not None:
        return routed
    req = AsrRequest(kind="detect", output="json", encode=encode, video_file=video_file,
                     upload_name=upload.filename)  # fmt: skip
    assert upload.path is not None
    job = await daemon.asr.submit(req, audio_path=upload.path, audio_sha256=upload.sha256)
    if daemon.settings.get("asr_heartbeat"):
        return StreamingResponse(
            heartbeat_stream(
                daemon.asr, job, interval=float(daemon.settings.get("asr_heartbeat_seconds")),
                render=lambda final: json.dumps(detect_answer(final)),
            ),
            media_type="application/json",
        )  # fmt: skip
    final = await daemon.asr.wait(job.id)
    return JSONResponse(detect_answer(final))


@router.get("/status")
async def provider_status(daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    """Bazarr's "Test connection": open, fast, names the engine, model and device."""
    try:
        fw = version("faster-whisper")
    except PackageNotFoundError:
        fw = "?"
    preset = daemon.settings.get(f"preset_{daemon.settings.get('asr_quality_preset')}")
    model = preset.get("model", "?") if isinstance(preset, dict) else "?"
    device = "cuda" if daemon.pool.stats()["gpu_workers"] else "cpu"
    return {"version": f"subtitler {daemon.version} (faster-whisper {fw}, model {model}, {device})"}
