"""Jobs semantics and the integrator API: tokens, idempotency, automatic retries (issue 12)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

SPECS: list[SettingSpec] = [
    SettingSpec(
        key="job_auto_retry_max",
        category="general",
        value_type="integer",
        default=3,
        minimum=0,
        maximum=20,
        description=(
            "How many times a job that failed for a transient reason (disk full, network share "
            "or provider unavailable) goes back to the queue by itself; 0 turns this off."
        ),
    ),
    SettingSpec(
        key="job_auto_retry_backoff_seconds",
        category="general",
        value_type="integer",
        default=60,
        minimum=0,
        maximum=3600,
        description=(
            "Wait before the first automatic retry; each further retry waits twice as long "
            "(at most an hour)."
        ),
    ),
    SettingSpec(
        key="min_free_output_disk_mb",
        category="general",
        value_type="integer",
        default=50,
        minimum=0,
        maximum=1024 * 1024,
        description=(
            "Free space (MB) the subtitle's folder must have before a job starts; less fails "
            "the job with disk_full before any work is done."
        ),
    ),
]
