"""Library settings: read by the scanner, and by the filesystem browser's common paths."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from subtitler.settings.registry import SettingSpec


def _check_absolute(values: list[str]) -> None:
    for item in values:
        if not (PurePosixPath(item).is_absolute() or PureWindowsPath(item).is_absolute()):
            raise ValueError(f"{item!r} is not an absolute path")


SPECS = [
    SettingSpec(
        key="library_paths",
        category="scanner",
        value_type="list",
        default=[],
        check=_check_absolute,
        description="Library folders to scan and watch (absolute paths).",
    ),
    SettingSpec(
        key="scanner_interval_minutes",
        category="scanner",
        value_type="integer",
        default=360,
        minimum=1,
        maximum=60 * 24 * 30,
        description="Minutes between scheduled library scans when no cron expression is set.",
    ),
]
