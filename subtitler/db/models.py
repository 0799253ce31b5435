"""ORM models. The DB row is the truth; anything in memory is a cache of it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Naive UTC: what every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_job_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


ACTIVE_STATUSES_SQL = "status IN ('queued', 'processing', 'completed')"
# The jobs that may still write a file: at most one per output (see uq_jobs_live_output).
LIVE_STATUSES_SQL = "status IN ('queued', 'processing')"
# Job options a client sets on POST /api/jobs (the rest of `options` is internal context).
REQUEST_OPTIONS = ("model", "initial_prompt", "vad_filter", "word_timestamps", "replaces",
                   "diarize", "num_speakers", "min_speakers", "max_speakers")  # fmt: skip


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_job_id)
    file_path: Mapped[str] = mapped_column(Text, nullable=False)
    file_name: Mapped[str] = mapped_column(Text, nullable=False)
    job_type: Mapped[str] = mapped_column(String(20), nullable=False, default="transcription")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="queued")
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    source_lang: Mapped[str | None] = mapped_column(String(8))
    source_lang_confidence: Mapped[float | None] = mapped_column(Float)
    target_lang: Mapped[str | None] = mapped_column(String(8))
    quality_preset: Mapped[str] = mapped_column(String(20), nullable=False, default="balanced")
    transcribe_or_translate: Mapped[str] = mapped_column(
        String(20), nullable=False, default="transcribe"
    )
    is_manual_request: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    current_stage: Mapped[str | None] = mapped_column(String(32))
    eta_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    output_path: Mapped[str | None] = mapped_column(Text)
    segments_count: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    recovered_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Worker crashes while running this job (only those count against it; a user retry resets).
    crash_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    worker_id: Mapped[str | None] = mapped_column(String(64))
    node_id: Mapped[str | None] = mapped_column(String(255))
    # Cluster (subtitler.cluster): when the claim's lease runs out without a node heartbeat, and
    # the one node allowed to claim it (an /asr upload spooled on that node), else NULL.
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    pinned_node: Mapped[str | None] = mapped_column(String(255))
    vram_used_mb: Mapped[int | None] = mapped_column(Integer)
    processing_time_seconds: Mapped[float | None] = mapped_column(Float)
    model_used: Mapped[str | None] = mapped_column(String(255))
    device_used: Mapped[str | None] = mapped_column(String(32))
    speech_detected: Mapped[bool | None] = mapped_column(Boolean)
    speech_ratio: Mapped[float | None] = mapped_column(Float)
    output_format: Mapped[str | None] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # translation (issue 9): the provider that translated the cues and what it was sent
    translation_provider: Mapped[str | None] = mapped_column(String(32))
    translated_characters: Mapped[int | None] = mapped_column(Integer)
    # speakers (issue 24): {speakers, talk_time: {SPEAKER_00: s}, turns, elapsed_seconds}
    diarization: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where the job came from: ui | api | scan | watcher | webhook | asr | openai.
    channel: Mapped[str] = mapped_column(String(16), nullable=False, default="api", index=True)
    rule_id: Mapped[int | None] = mapped_column(Integer)
    rule_name: Mapped[str | None] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(Text)
    # The output's variant tag ('' for the plain subtitle): part of the output's identity.
    variant: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    not_before: Mapped[datetime | None] = mapped_column(DateTime)  # automatic retry backoff
    # forced subtitles (issue 22): the foreign passages found and how many got cues
    passages: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    forced_passages: Mapped[int | None] = mapped_column(Integer)
    auto_retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    @property
    def request_options(self) -> dict[str, Any]:
        """The options the job was created with (POST /api/jobs), as the API shows them."""
        return {k: v for k, v in (self.options or {}).items() if k in REQUEST_OPTIONS}

    @property
    def source_subtitle(self) -> dict[str, Any] | None:
        """The subtitle a subtitle_translation job translates (None for the other jobs)."""
        source = (self.options or {}).get("subtitle_source")
        if self.job_type != "subtitle_translation" or not isinstance(source, dict):
            return None
        return source

    __table_args__ = (
        # At most one live (queued/processing) job per output file (file, output language,
        # variant) whatever the task: enforced by the database, not by a Python check. NULL
        # targets collapse to '' so they collide too.
        Index(
            "uq_jobs_live_output",
            "file_path",
            func.coalesce(text("target_lang"), ""),
            "variant",
            unique=True,
            sqlite_where=text(LIVE_STATUSES_SQL),
            postgresql_where=text(LIVE_STATUSES_SQL),
        ),
        Index("ix_jobs_claim", "status", "priority", "created_at"),
        Index("ix_jobs_created", "created_at", "id"),
        Index("ix_jobs_lease", "status", "lease_expires_at"),
    )


class JobLogLine(Base):
    __tablename__ = "job_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    level: Mapped[str] = mapped_column(String(10), nullable=False, default="info")
    message: Mapped[str] = mapped_column(Text, nullable=False)


class Setting(Base):
    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    value: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), nullable=False, default="general")
    value_type: Mapped[str] = mapped_column(String(16), nullable=False, default="string")
    is_builtin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_user_set: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class ScanRule(Base):
    __tablename__ = "scan_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    audio_language_is: Mapped[str | None] = mapped_column(String(255))
    audio_language_not: Mapped[str | None] = mapped_column(String(255))
    audio_track_count_min: Mapped[int | None] = mapped_column(Integer)
    has_embedded_subtitle_lang: Mapped[str | None] = mapped_column(String(255))
    missing_embedded_subtitle_lang: Mapped[str | None] = mapped_column(String(255))
    missing_external_subtitle_lang: Mapped[str | None] = mapped_column(String(255))
    file_extension: Mapped[str | None] = mapped_column(String(255))
    action_type: Mapped[str] = mapped_column(String(20), nullable=False, default="transcribe")
    target_language: Mapped[str | None] = mapped_column(String(8))
    quality_preset: Mapped[str] = mapped_column(String(20), nullable=False, default="balanced")
    job_priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    diarize: Mapped[bool | None] = mapped_column(Boolean)  # None: diarization_enabled decides
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class MediaProbe(Base):
    """Probe cache: a file is probed again only when its size or mtime changed."""

    __tablename__ = "media_probes"

    path: Mapped[str] = mapped_column(Text, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    mtime_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    probed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class WrittenSubtitle(Base):
    """Every subtitle file subtitler wrote, so a user's own file is never overwritten."""

    __tablename__ = "written_subtitles"

    path: Mapped[str] = mapped_column(Text, primary_key=True)
    job_id: Mapped[str | None] = mapped_column(String(32))
    media_path: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    sha256: Mapped[str | None] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    # A short stable id for the history API (/api/subtitles/{uid}); derived from the path.
    uid: Mapped[str | None] = mapped_column(
        String(16),
        unique=True,
        default=lambda ctx: subtitle_uid(ctx.get_current_parameters()["path"]),
    )


class SubtitleWriteIntent(Base):
    """A subtitle a job is about to write, recorded before the file is renamed into place and
    removed when its `written_subtitles` record is made (see subtitler.subtitles.registry)."""

    __tablename__ = "subtitle_write_intents"
    __table_args__ = (Index("ix_subtitle_write_intents_media", "media_path"),)

    path: Mapped[str] = mapped_column(Text, primary_key=True)
    job_id: Mapped[str | None] = mapped_column(String(32))
    media_path: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


def subtitle_uid(path: str) -> str:
    return hashlib.sha1(path.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


import subtitler.db.models_jobs  # noqa: E402, F401  (issue 12's tables join the metadata)
