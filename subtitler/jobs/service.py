"""What the API (and later the scanner) asks of jobs: validation first, then the queue."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from subtitler.db.models import Job
from subtitler.errors import BadRequest
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.states import JobType, Task
from subtitler.media.languages import parse_language
from subtitler.settings import SettingsService
from subtitler.settings.specs.transcription import QUALITY_PRESETS


class JobService:
    def __init__(self, queue: JobQueue, settings: SettingsService) -> None:
        self.queue = queue
        self._settings = settings

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
    ) -> Job:
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
        job_type = (
            JobType.TRANSLATION
            if transcribe_or_translate == Task.TRANSLATE
            else (JobType.TRANSCRIPTION)
        )
        fields = {
            "file_path": str(path),
            "file_name": file_name or path.name,
            "job_type": job_type,
            "source_lang": source,
            "target_lang": target,
            "quality_preset": preset,
            "transcribe_or_translate": transcribe_or_translate,
            "priority": priority,
            "is_manual_request": is_manual_request,
        }
        # translation: a subtitle to translate instead, and the provider pre-check (422);
        # imported here: subtitler.translation imports the jobs package's states
        from subtitler.translation.enqueue import plan_manual_job

        fields = await plan_manual_job(
            settings=self._settings, path=path, source=source, target=target, fields=fields
        )
        return await self.queue.enqueue(**fields)


def check_media_path(file_path: str) -> Path:
    """The file a job will read: absolute, existing, a regular file, readable (else 400)."""
    path = Path(file_path)
    if not path.is_absolute():
        raise BadRequest(f"file_path must be absolute: {file_path!r}", code="path_not_absolute")
    if not path.exists():
        raise BadRequest(f"File not found: {file_path}", code="file_not_found")
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
