"""The job object as the API and the event stream show it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer

from subtitler.db.models import Job


class SourceSubtitleOut(BaseModel):
    """The existing subtitle a subtitle_translation job translates."""

    kind: str  # external (a sidecar file) | embedded (a stream of the media)
    language: str
    path: str | None = None
    index: int | None = None  # embedded: the subtitle stream's index (`-map 0:s:<index>`)
    codec: str | None = None
    forced: bool = False
    sdh: bool = False


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    file_path: str
    file_name: str
    job_type: str
    status: str
    priority: int
    source_lang: str | None
    source_lang_confidence: float | None
    target_lang: str | None
    quality_preset: str
    transcribe_or_translate: str
    is_manual_request: bool
    progress: float
    current_stage: str | None
    eta_seconds: float | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    output_path: str | None
    output_format: str | None
    segments_count: int | None
    error: str | None
    error_code: str | None
    retry_count: int
    recovered_count: int
    crash_count: int = 0  # worker crashes while running it (the second fails it)
    worker_id: str | None
    node_id: str | None
    vram_used_mb: int | None
    processing_time_seconds: float | None
    model_used: str | None
    device_used: str | None
    speech_detected: bool | None
    speech_ratio: float | None
    translation_provider: str | None = None
    translated_characters: int | None = None
    diarization: dict[str, Any] | None = None  # speakers and their talk time (issue 24)
    channel: str = "api"
    rule_id: int | None = None
    rule_name: str | None = None
    callback_url: str | None = None
    variant: str = ""
    auto_retry_count: int = 0
    not_before: datetime | None = None
    request_options: dict[str, Any] = {}
    source_subtitle: SourceSubtitleOut | None = None
    # forced subtitles: [{start, end, language, confidence, language_confidence, subtitled}]
    passages: list[dict[str, Any]] | None = None
    forced_passages: int | None = None

    @field_serializer("created_at", "started_at", "completed_at", "not_before")
    def _utc(self, value: datetime | None) -> str | None:
        return as_utc_iso(value)


class JobListOut(BaseModel):
    jobs: list[JobOut]
    total: int
    page: int
    page_size: int


def as_utc_iso(value: datetime | None) -> str | None:
    """Stored timestamps are naive UTC; show them as ISO 8601 with an explicit offset."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def job_payload(job: Job) -> dict[str, Any]:
    return JobOut.model_validate(job).model_dump(mode="json")


class JobLogLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    created_at: datetime
    level: str
    message: str

    @field_serializer("created_at")
    def _utc(self, value: datetime) -> str | None:
        return as_utc_iso(value)
