"""Request and response bodies of the core routers (the job object lives in subtitler.jobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from subtitler.api.schemas_jobs import JobOptionsIn
from subtitler.jobs.schemas import as_utc_iso


class Message(BaseModel):
    message: str


class JobCreate(JobOptionsIn):
    file_path: str = Field(min_length=1)
    file_name: str | None = None
    source_lang: str | None = None
    target_lang: str = Field(min_length=1)
    quality_preset: str | None = None
    transcribe_or_translate: str = "transcribe"
    priority: int = Field(default=0, ge=-1000, le=1000)
    is_manual_request: bool = True
    variant: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="A tag in the file name (Movie.eng.<variant>.srt): another output file.",
    )
    forced: bool = Field(
        default=False,
        description="A forced subtitle in target_lang (Movie.<lang>.forced.srt): cues only for "
        "the passages spoken in another language than the audio's main one.",
    )
    channel: Literal["api", "ui", "webhook"] = Field(
        default="api", description="Where the request comes from (recorded, filterable)."
    )


class JobStats(BaseModel):
    total_jobs: int
    queued: int
    processing: int
    completed: int
    failed: int
    cancelled: int


class JobLogLine(BaseModel):
    timestamp: str
    level: str
    message: str


class SettingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    value: str | None
    description: str | None
    category: str
    value_type: str
    created_at: datetime
    updated_at: datetime | None
    secret: bool = False  # write-only: `value` is a mask

    @field_serializer("created_at", "updated_at")
    def _utc(self, value: datetime | None) -> str | None:
        return as_utc_iso(value)


class SettingValue(BaseModel):
    value: Any


class SettingCreate(BaseModel):
    key: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    value: Any = None
    description: str | None = None
    category: str = "general"
    value_type: str = "string"


class BulkUpdate(BaseModel):
    settings: dict[str, Any] = Field(min_length=1)


class SetupRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    enabled: bool = True
    priority: int = 0
    audio_language_is: str | None = None
    audio_language_not: str | None = None
    audio_track_count_min: int | None = Field(default=None, ge=1)
    has_embedded_subtitle_lang: str | None = None
    missing_embedded_subtitle_lang: str | None = None
    missing_external_subtitle_lang: str | None = None
    file_extension: str | None = None
    target_language: str | None = None
    action_type: str = "transcribe"
    quality_preset: str = "balanced"
    job_priority: int = 0
    diarize: bool | None = None


class WorkerConfig(BaseModel):
    count: int = Field(default=1, ge=0, le=64)
    type: str = Field(default="cpu", pattern="^(cpu|gpu)$")


class ScannerConfig(BaseModel):
    interval_minutes: int = Field(default=360, ge=1, le=60 * 24 * 30)
    watch: bool = True  # also start the file watcher (new files queued once their copy ends)


class StandaloneSetup(BaseModel):
    library_paths: list[str] = Field(min_length=1)
    scan_rules: list[SetupRule] = Field(default_factory=list)
    worker_config: WorkerConfig | None = None
    scanner_config: ScannerConfig | None = None
    first_scan: bool = Field(default=True, description="Scan the library when the wizard ends")


class SetupResult(BaseModel):
    success: bool
    message: str
    bazarr_info: dict[str, Any] | None
    first_scan_started: bool = Field(
        default=False, description="Standalone: the first scan runs (scan_started/_finished)"
    )


class SetupStatus(BaseModel):
    is_first_run: bool
    setup_completed: bool
    mode: str | None = None


class FsItem(BaseModel):
    name: str
    path: str
    is_directory: bool
    is_readable: bool


class FsListing(BaseModel):
    current_path: str
    parent_path: str | None
    items: list[FsItem]


class CpuOut(BaseModel):
    usage_percent: float
    count_logical: int
    count_physical: int
    frequency_mhz: float | None


class MemoryOut(BaseModel):
    total_gb: float
    used_gb: float
    free_gb: float
    usage_percent: float


class GpuOut(BaseModel):
    id: int
    name: str
    memory_total_mb: int
    memory_used_mb: int
    memory_free_mb: int
    utilization_percent: int | None


class ResourcesOut(BaseModel):
    cpu: CpuOut
    memory: MemoryOut
    gpus: list[GpuOut]
