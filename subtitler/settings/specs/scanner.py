"""Library settings: read by the scanner, and by the filesystem browser's common paths."""

from __future__ import annotations

from subtitler.media.languages import parse_language
from subtitler.security.paths import check_folder_list
from subtitler.settings.registry import SettingSpec


def _check_absolute(values: list[str]) -> None:
    check_folder_list(values, windows=True)


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


def _check_extensions(values: list[str]) -> None:
    for item in values:
        text = str(item).strip()
        if not text.startswith(".") or len(text) < 2 or any(c in text[1:] for c in "./\\ "):
            raise ValueError(f"{item!r} is not a file extension like .mkv")


def _check_policy(value: str) -> None:
    # Same grammar as subtitler.rules.engine.UnknownLanguagePolicy.parse (kept import-light here).
    if value in ("detect", "skip"):
        return
    if value.startswith("assume:") and parse_language(value.split(":", 1)[1]) is not None:
        return
    raise ValueError(f"must be detect, skip or assume:<language code>; got {value!r}")


SPECS += [
    SettingSpec(
        key="scanner_media_extensions",
        advanced=True,
        category="scanner",
        value_type="list",
        default=[
            *(".mkv", ".mp4", ".m4v", ".avi", ".mov", ".wmv", ".ts", ".m2ts", ".mts", ".webm"),
            *(".mpg", ".mpeg", ".flv", ".ogv", ".vob", ".3gp", ".divx"),
            *(".mp3", ".m4a", ".m4b", ".flac", ".wav", ".ogg", ".opus", ".aac", ".wma", ".mka"),
        ],
        check=_check_extensions,
        description=(
            "File extensions the scanner treats as media (lowercase, with the dot). Read by "
            "subtitler.scanner.walker.WalkOptions.from_settings."
        ),
    ),
    SettingSpec(
        key="scanner_sample_max_mb",
        advanced=True,
        category="scanner",
        value_type="integer",
        default=200,
        minimum=0,
        maximum=100_000,
        description=(
            "A file named like a sample (`movie-sample.mkv`, a `Sample` folder) smaller than this "
            "many MB is skipped; 0 keeps every sample. Read by WalkOptions.from_settings."
        ),
    ),
    SettingSpec(
        key="scanner_unknown_language_policy",
        category="scanner",
        value_type="string",
        default="detect",
        check=_check_policy,
        description=(
            "Audio with no language tag (or `und`): 'detect' queues the job and the worker detects "
            "the language before applying the rule's language conditions; 'skip' leaves the file "
            "alone; 'assume:<code>' (e.g. assume:eng) treats it as that language. Read by "
            "subtitler.rules.engine.UnknownLanguagePolicy.from_settings."
        ),
    ),
]


def _check_cron(value: str) -> None:
    # Same check as subtitler.scanner.scheduler.parse_cron (kept import-light here).
    from croniter import croniter

    text = value.strip()
    if text and (len(text.split()) != 5 or not croniter.is_valid(text)):
        raise ValueError(f"not a 5-field cron expression: {value!r}")


SPECS += [
    SettingSpec(
        key="scanner_schedule_enabled",
        category="scanner",
        value_type="boolean",
        default=False,
        description=(
            "Run scheduled library scans (cron expression, else every scanner_interval_minutes). "
            "Set by POST /api/scanner/scheduler/start|stop; read by subtitler.scanner.scheduler."
        ),
    ),
    SettingSpec(
        key="scanner_cron_expression",
        category="scanner",
        value_type="string",
        default="",
        check=_check_cron,
        description=(
            "5-field cron expression for scheduled scans in the server's local time (e.g. "
            "'0 2 * * *'); empty uses scanner_interval_minutes. Read by scanner.scheduler."
        ),
    ),
    SettingSpec(
        key="scanner_schedule_paths",
        category="scanner",
        value_type="list",
        default=[],
        check=_check_absolute,
        description="Folders the scheduled scan covers; empty means library_paths.",
    ),
    SettingSpec(
        key="scanner_schedule_recursive",
        advanced=True,
        category="scanner",
        value_type="boolean",
        default=True,
        description="Scheduled scans descend into subfolders.",
    ),
    SettingSpec(
        key="scanner_watcher_enabled",
        category="scanner",
        value_type="boolean",
        default=False,
        description=(
            "Watch the library for new, moved-in and modified files. Set by POST "
            "/api/scanner/watcher/start|stop; read by subtitler.scanner.watcher."
        ),
    ),
    SettingSpec(
        key="scanner_watcher_paths",
        category="scanner",
        value_type="list",
        default=[],
        check=_check_absolute,
        description="Folders the watcher covers; empty means library_paths.",
    ),
    SettingSpec(
        key="scanner_watcher_recursive",
        advanced=True,
        category="scanner",
        value_type="boolean",
        default=True,
        description="The watcher also watches subfolders.",
    ),
    SettingSpec(
        key="scanner_watcher_polling",
        advanced=True,
        category="scanner",
        value_type="boolean",
        default=False,
        description=(
            "Poll the folders instead of inotify (network shares: NFS/SMB send no events). "
            "Polling is also used automatically when inotify is unavailable."
        ),
    ),
    SettingSpec(
        key="scanner_quiet_seconds",
        advanced=True,
        category="scanner",
        value_type="float",
        default=10.0,
        minimum=0.2,
        maximum=3600,
        description=(
            "A watched file is analysed only after its size and mtime stayed unchanged this long "
            "(a file being copied in is queued once, after the copy). Read by scanner.stability."
        ),
    ),
    SettingSpec(
        key="scanner_watcher_rescan_minutes",
        advanced=True,
        category="scanner",
        value_type="integer",
        default=60,
        minimum=0,
        maximum=60 * 24 * 30,
        description=(
            "While the watcher runs, a light rescan (probe cache) of its folders this often "
            "catches events it missed; 0 turns it off."
        ),
    ),
    SettingSpec(
        key="scanner_last_scan_time",
        internal=True,
        category="scanner",
        value_type="string",
        default="",
        description="When the last library scan finished (ISO 8601, UTC). Written by the scanner.",
    ),
    SettingSpec(
        key="scanner_total_scans",
        internal=True,
        category="scanner",
        value_type="integer",
        default=0,
        minimum=0,
        description="How many library scans have run. Written by the scanner.",
    ),
]
