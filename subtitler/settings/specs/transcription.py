"""Transcription settings read by the job service (subtitler.jobs.service)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

QUALITY_PRESETS = ("fast", "balanced", "best")

SPECS = [
    SettingSpec(
        key="default_quality_preset",
        category="transcription",
        value_type="string",
        default="balanced",
        choices=QUALITY_PRESETS,
        description="Quality preset of a job that does not name one (fast, balanced or best).",
    ),
]
