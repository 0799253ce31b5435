"""Library, History, System and Logs screens (issue 13)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

SPECS: list[SettingSpec] = [
    SettingSpec(
        key="system_task_runs",
        category="general",
        value_type="json",
        default={},
        internal=True,
        description="When each System task (scan, rescan, backup, cleanup) last ran, and how.",
    ),
]
