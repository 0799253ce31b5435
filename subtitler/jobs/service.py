"""What the API (and later the scanner) asks of jobs: validation first, then the queue."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

from subtitler.db.models import Job
from subtitler.errors import BadRequest, Conflict
from subtitler.jobs.claim import DuplicateJob
from subtitler.jobs.prechecks import precheck
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.states import CHANNELS, FORCED, JobStatus, JobType, Task
from subtitler.media.languages import parse_language
from subtitler.media.probe_processes import ProbeProcesses
from subtitler.security.outbound import check_url
from subtitler.security.paths import check_allowed
from subtitler.settings import SettingsService
from subtitler.settings.specs.transcription import QUALITY_PRESETS
from subtitler.subtitles.formats import FORMATS
from subtitler.subtitles.registry import WrittenSubtitles

_MODEL = re.compile(r"^[A-Za-z0-9._/:-]{1,200}$")
_VARIANT = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class JobService:
    def __init__(
        self,
        queue: JobQueue,
        settings: SettingsService,
        written: WrittenSubtitles | None = None,
        *,
        probes: ProbeProcesses | None = None,
    ) -> None:
        self.queue = queue
        self._settings = settings
        self._written = written
        self._probes = probes or ProbeProcesses()

    async def create(
        self,
        *,
        file_path: str,
        file_name: str | None = None,
        source_lang: str | None = None,
        target_lang: str | None,
        quality_preset: str | None = None,
        transcribe_or_translate: str = Task.TRANSCRIBE,
        priority: int = 0,
        is_manual_request: bool = True,
        output_format: str | None = None,
        model: str | None = None,
        initial_prompt: str | None = None,
        vad_filter: bool | None = None,
        word_timestamps: bool | None = None,
        diarize: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        callback_url: str | None = None,
        channel: str = "api",
        variant: str | None = None,
        replaces: str | None = None,
        wants_subtitle: bool = False,
        forced: bool = False,
    ) -> Job:
        file_path = check_allowed(file_path, self._settings.get)  # 403 before any file access
        if callback_url:  # never link-local/metadata; this machine only when allowed
            check_url(callback_url, field="callback_url",
                      loopback=bool(self._settings.get("callback_allow_loopback")))  # fmt: skip
        path = await asyncio.to_thread(check_media_path, file_path)
        preset = quality_preset or self._settings.get("default_quality_preset")
        if preset not in QUALITY_PRESETS:
            raise BadRequest(
                f"Invalid quality preset {preset!r}; one of {', '.join(QUALITY_PRESETS)}",
                code="invalid_quality_preset",
            )
        if transcribe_or_translate not in (Task.TRANSCRIBE, Task.TRANSLATE):
            raise BadRequest(
                f"transcribe_or_translate must be 'transcribe' or 'translate', "
                f"got {transcribe_or_translate!r}",
                code="invalid_task",
            )
        source = _language(source_lang, field="source_lang") if source_lang else None
        target = _language(target_lang, field="target_lang") if target_lang else None
        if transcribe_or_translate == Task.TRANSLATE and target is None:
            raise BadRequest("target_lang is required to translate", code="missing_target")
        fmt = _format(output_format)
        options = _request_options(
            model=model, initial_prompt=initial_prompt, vad_filter=vad_filter,
            word_timestamps=word_timestamps, replaces=replaces,
        )  # fmt: skip
        options.update(
            speaker_options(diarize=diarize, num_speakers=num_speakers,
                            min_speakers=min_speakers, max_speakers=max_speakers)
        )  # fmt: skip
        if channel not in CHANNELS:
            raise BadRequest(f"channel must be one of {', '.join(CHANNELS)}", code="bad_channel")
        tag = _variant(variant)
        if forced and tag not in ("", FORCED):
            raise BadRequest("a forced subtitle has the variant 'forced'", code="bad_variant")
        tag = FORCED if forced else tag
        job_type = (
            JobType.TRANSLATION if transcribe_or_translate == Task.TRANSLATE
            else JobType.TRANSCRIPTION
        )  # fmt: skip
        fields: dict[str, Any] = {
            "file_path": str(path), "file_name": file_name or path.name, "job_type": job_type,
            "source_lang": source, "target_lang": target, "quality_preset": preset,
            "transcribe_or_translate": transcribe_or_translate, "priority": priority,
            "is_manual_request": is_manual_request, "output_format": fmt, "options": options,
            "callback_url": callback_url, "channel": channel, "variant": tag,
        }  # fmt: skip
        if replaces is None:  # a redo replaces its completed twin on purpose
            done = await self.queue.find_active(
                file_path=str(path), target_lang=target, variant=tag
            )
            if done is not None and done.status == JobStatus.COMPLETED:
                raise DuplicateJob(done.id)
        # translation: a subtitle to translate instead, and the provider pre-check (422);
        # imported here: subtitler.translation imports the jobs package's states
        from subtitler.translation.enqueue import plan_manual_job

        if tag != FORCED:  # a forced job listens to the passages; no existing subtitle serves
            fields = await plan_manual_job(
                settings=self._settings, path=path, source=source, target=target, fields=fields,
                probe=self._probes.probe, wants_subtitle=wants_subtitle,
            )  # fmt: skip
        await self._precheck(fields, replaces=replaces)
        return await self.queue.enqueue(**fields)

    async def redo(self, job_id: str, **overrides: Any) -> Job:
        """A completed job again with other options; its file is replaced (ours only)."""
        old = await self.queue.get(job_id)
        if old.status != JobStatus.COMPLETED:
            raise Conflict(
                f"Job {job_id} is {old.status}; only completed jobs can be redone "
                "(retry a failed one)",
                code="job_not_completed",
            )
        kept = old.request_options
        given = {k: v for k, v in overrides.items() if v is not None}
        values: dict[str, Any] = {
            "file_path": old.file_path, "file_name": old.file_name,
            "source_lang": old.source_lang, "target_lang": old.target_lang,
            "quality_preset": old.quality_preset,
            "transcribe_or_translate": old.transcribe_or_translate, "priority": old.priority,
            "output_format": old.output_format, "callback_url": old.callback_url,
            "variant": old.variant or None, "channel": old.channel,
            "model": kept.get("model"), "initial_prompt": kept.get("initial_prompt"),
            "vad_filter": kept.get("vad_filter"), "word_timestamps": kept.get("word_timestamps"),
            **{k: kept.get(k) for k in ("diarize", "num_speakers", "min_speakers",
                                         "max_speakers")},
        }  # fmt: skip
        if old.job_type == JobType.SUBTITLE_TRANSLATION:  # the subtitle again, not the audio
            values["source_lang"] = (old.options or {}).get("audio_lang")
            values["wants_subtitle"] = True
        values.update(given)
        if "model" in given and "quality_preset" not in given:
            values["quality_preset"] = old.quality_preset
        job = await self.create(**values, replaces=old.output_path or "")
        await self.queue.log(job.id, f"redo of job {old.id}")
        return job

    async def _precheck(self, fields: dict[str, Any], *, replaces: str | None) -> None:
        written = await self._written.for_media(fields["file_path"]) if self._written else {}
        settings = {
            key: self._settings.get(key)
            for key in ("subtitle_format", "subtitle_language_style", "subtitle_provenance_tag",
                        "overwrite_existing_subtitles", "min_free_output_disk_mb")
        }  # fmt: skip
        await asyncio.to_thread(
            precheck, job=fields, settings=settings, written=written, replaces=replaces or None
        )


def check_media_path(file_path: str) -> Path:
    """The file a job will read: absolute, existing, a regular file, readable (else 400)."""
    path = Path(file_path)
    if not path.is_absolute():
        raise BadRequest(f"file_path must be absolute: {file_path!r}", code="path_not_absolute")
    if not path.exists():
        # the code the worker uses for the same condition (subtitler.jobs.prechecks)
        raise BadRequest(f"File not found: {file_path}", code="media_not_found")
    if not path.is_file():
        raise BadRequest(f"Not a file: {file_path}", code="not_a_file")
    if not os.access(path, os.R_OK):
        raise BadRequest(f"File is not readable by subtitler: {file_path}", code="not_readable")
    return path


def _language(value: str, *, field: str) -> str:
    code = parse_language(value)
    if code is None:
        raise BadRequest(f"{field}: unknown language code {value!r}", code="unknown_language")
    return code


def _format(value: str | None) -> str | None:
    if value is None:
        return None
    fmt = value.lower()
    if fmt not in FORMATS:
        raise BadRequest(
            f"output_format must be one of {', '.join(FORMATS)}; got {value!r}", code="bad_format"
        )
    return fmt


def _variant(value: str | None) -> str:
    if not value:
        return ""
    if not _VARIANT.match(value):
        raise BadRequest("variant: 1-32 letters, digits, '-' or '_'", code="bad_variant")
    return value


def speaker_options(
    *, diarize: bool | None, num_speakers: int | None, min_speakers: int | None,
    max_speakers: int | None,
) -> dict[str, Any]:  # fmt: skip
    """A job's diarization options (issue 24), checked: counts only make sense together."""
    if min_speakers and max_speakers and min_speakers > max_speakers:
        raise BadRequest("min_speakers is above max_speakers", code="bad_speakers")
    options = {"diarize": diarize, "num_speakers": num_speakers,
               "min_speakers": min_speakers, "max_speakers": max_speakers}  # fmt: skip
    return {k: v for k, v in options.items() if v is not None}


def _request_options(
    *, model: str | None, initial_prompt: str | None, vad_filter: bool | None,
    word_timestamps: bool | None, replaces: str | None,
) -> dict[str, Any]:  # fmt: skip
    if model is not None and not _MODEL.match(model):
        raise BadRequest(f"model: not a model name or path: {model!r}", code="bad_model")
    if initial_prompt is not None and len(initial_prompt) > 2000:
        raise BadRequest("initial_prompt: at most 2000 characters", code="bad_prompt")
    options = {
        "model": model, "initial_prompt": initial_prompt or None, "vad_filter": vad_filter,
        "word_timestamps": word_timestamps, "replaces": replaces or None,
    }  # fmt: skip
    return {k: v for k, v in options.items() if v is not None}
