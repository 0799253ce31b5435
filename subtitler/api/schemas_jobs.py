"""Request and response bodies of the job actions and the integrator API (issue 12)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

FormatName = Literal["srt", "vtt", "ass", "lrc", "txt", "json"]


class ErrorOut(BaseModel):
    """Every error: a human `detail` and a machine `code` (422 validation errors carry the
    list of problems as `detail`)."""

    detail: str | list[dict[str, Any]]
    code: str | None = None


class JobOptionsIn(BaseModel):
    """Per-job options (all optional: the settings decide what is not given)."""

    output_format: FormatName | None = None
    model: str | None = Field(default=None, max_length=200)
    initial_prompt: str | None = Field(default=None, max_length=2000)
    vad_filter: bool | None = None
    word_timestamps: bool | None = None
    diarize: bool | None = Field(
        default=None, description="Tell speakers apart (pyannote.audio); the setting decides."
    )
    num_speakers: int | None = Field(default=None, ge=1, le=50)
    min_speakers: int | None = Field(default=None, ge=1, le=50)
    max_speakers: int | None = Field(default=None, ge=1, le=50)
    callback_url: HttpUrl | None = Field(
        default=None, description="Called (signed) when the job finishes; http or https."
    )


class JobPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int = Field(ge=-1000, le=1000)


class BulkFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["queued", "processing", "completed", "failed", "cancelled"] | None = None
    channel: Literal["ui", "api", "scan", "watcher", "webhook", "asr", "openai"] | None = None
    error_code: str | None = Field(default=None, max_length=64)
    q: str | None = Field(default=None, max_length=500)


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["retry", "cancel", "remove", "priority"]
    ids: list[str] | None = Field(default=None, max_length=10_000)
    filter: BulkFilter | None = None
    priority: int | None = Field(default=None, ge=-1000, le=1000)


class BulkError(BaseModel):
    id: str
    detail: str


class BulkResult(BaseModel):
    action: str
    matched: int
    affected: int
    errors: list[BulkError]


class RedoRequest(JobOptionsIn):
    model_config = ConfigDict(extra="forbid")

    quality_preset: Literal["fast", "balanced", "best"] | None = None
    source_lang: str | None = Field(default=None, max_length=16)
    priority: int | None = Field(default=None, ge=-1000, le=1000)


class WordOut(BaseModel):
    start: float
    end: float
    word: str
    probability: float


class SegmentOut(BaseModel):
    start: float
    end: float
    text: str
    words: list[WordOut]


class CueOut(BaseModel):
    start: float
    end: float
    text: str
    lines: list[str]


class SegmentsOut(BaseModel):
    job_id: str
    language: str | None
    duration: float | None
    cues: list[CueOut]
    segments: list[SegmentOut]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scope: Literal["admin", "asr"] = "admin"


class TokenOut(BaseModel):
    id: int
    name: str
    scope: str
    prefix: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class TokenCreated(TokenOut):
    secret: str = Field(description="Shown once: store it now; only its hash is kept.")
