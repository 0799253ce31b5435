"""Run one job in this process, as `subtitler transcribe` does: same pipeline, no daemon."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from subtitler.errors import BadRequest
from subtitler.jobs.service import check_media_path
from subtitler.media.languages import parse_language
from subtitler.settings import REGISTRY
from subtitler.workers.pipeline import JobRunner


class ConsoleReporter:
    """Progress as a rich bar, job log lines above it; Ctrl-C cancels."""

    def __init__(self, progress: Progress, console: Console) -> None:
        self._progress = progress
        self._console = console
        self._task = progress.add_task("starting", total=100.0)

    def progress(
        self,
        progress: float,
        *,
        stage: str | None = None,
        eta_seconds: float | None = None,
        **fields: Any,
    ) -> None:
        update: dict[str, Any] = {"completed": progress}
        if stage:
            update["description"] = stage.replace("_", " ")
        self._progress.update(self._task, **update)

    def log(self, message: str, *, level: str = "info") -> None:
        style = {"warning": "yellow", "error": "red"}.get(level, "dim")
        self._console.print(f"[{style}]{message}[/{style}]", highlight=False)

    def cancelled(self) -> bool:
        return False


def transcribe_file(
    *,
    file: Path,
    models_dir: Path,
    language: str | None,
    target: str | None,
    fmt: str | None,
    model: str | None,
    preset: str,
    device: str,
    overwrite: bool,
    console: Console,
) -> dict[str, Any]:
    """Write the subtitle of `file` beside it; returns the job result fields."""
    path = check_media_path(str(file.resolve()))
    settings = {key: spec.default for key, spec in REGISTRY.items()}
    if f"preset_{preset}" not in settings:
        raise BadRequest(f"unknown preset {preset!r}; fast, balanced or best", code="bad_preset")
    if model:
        settings[f"preset_{preset}"] = {**settings[f"preset_{preset}"], "model": model}
    settings["overwrite_existing_subtitles"] = overwrite
    source = _language(language, "--language")
    job: dict[str, Any] = {
        "id": "cli",
        "file_path": str(path),
        "quality_preset": preset,
        "source_lang": source,
        "target_lang": _language(target, "--target") or source,
        "output_format": fmt,
        "written_subtitles": {},
    }
    runner = JobRunner(worker_id="cli", device=device, device_index=0)
    started = time.monotonic()
    columns = (
        TextColumn("{task.description:<20}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        reporter = ConsoleReporter(bar, console)
        result = runner.run(
            job=job, settings=settings, models_dir=str(models_dir), reporter=reporter
        )
        reporter.progress(100.0, stage="done")
    result["wall_seconds"] = round(time.monotonic() - started, 2)
    return result


def _language(value: str | None, flag: str) -> str | None:
    if not value:
        return None
    code = parse_language(value)
    if code is None:
        raise BadRequest(f"{flag}: unknown language {value!r}", code="unknown_language")
    return code
