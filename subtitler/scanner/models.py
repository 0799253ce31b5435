"""Request and response bodies of the Scanner API (plain pydantic: only `api/` imports FastAPI)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] | None = None
    recursive: bool = True


class SchedulerStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    cron_expression: str | None = None  # empty or null: every interval_minutes
    interval_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30)
    paths: list[str] | None = None
    recursive: bool | None = None


class WatcherStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    paths: list[str] | None = None
    recursive: bool | None = None
    polling: bool | None = None


class ScanResult(BaseModel):
    """The spec's counts, plus where the skipped files went and what the scan cost.

    `skipped` counts files by reason: the walker's (junk, partial, sample, not_media, ignored,
    unreadable, outside: a symlink out of the library), probe failures (not_media,
    probe_failed) and media no enabled rule matched (no_rule_matched); `skipped_files` is
    their sum. Matched files that got no new job are counted in `already_queued` (a live job
    holds the same file/target/task), `already_produced` (subtitler already wrote that
    subtitle) and `previously_ended` (its job failed or was cancelled and the file has not
    changed since: retry it from the jobs API).
    """

    scanned_files: int
    matched_files: int
    jobs_created: int
    skipped_files: int
    paths_scanned: list[str]
    skipped: dict[str, int]
    already_queued: int = 0
    already_produced: int = 0
    previously_ended: int = 0
    # Matched requests a pre-check refused, by code (output_exists, output_not_writable,
    # disk_full, media_not_found): queuing them would only fail later.
    refused: dict[str, int] = Field(default_factory=dict)
    probed_files: int = 0
    cached_files: int = 0
    duration_seconds: float = 0.0
    trigger: str = "manual"
    errors: list[str] = Field(default_factory=list)


class ScannerStatus(BaseModel):
    scheduler_enabled: bool
    scheduler_running: bool
    next_scan_time: str | None
    watcher_enabled: bool
    watcher_running: bool
    watched_paths: list[str]
    last_scan_time: str | None
    total_scans: int
    schedule: str | None = None  # "every 360 minutes" or "cron: 0 2 * * *"
    watcher_mode: str | None = None  # inotify | polling
    scan_in_progress: bool = False
    pending_files: int = 0  # watched files waiting for their quiet period
