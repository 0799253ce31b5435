"""Checks before any work: at enqueue and again when a worker claims the job.

Decoding audio and transcribing takes minutes; a user's own subtitle in the way, a read-only
folder, a full disk or a vanished file are known in a millisecond. The same codes are used when
the write itself fails (see `write_subtitle`), so a job never ends as `internal_error` for them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from subtitler.errors import SubtitlerError
from subtitler.jobs.states import FORCED
from subtitler.subtitles.naming import OutputOptions, subtitle_path
from subtitler.subtitles.writer import file_sha256, write_atomic

MB = 1024 * 1024


class PrecheckFailed(SubtitlerError):
    """Work would be wasted: the output cannot (or must not) be written, or the input is gone."""


def media_not_found(media: Path) -> PrecheckFailed:
    if not media.parent.is_dir():  # the whole folder went: an unmounted share, probably back soon
        return PrecheckFailed(
            f"{media.parent} is not reachable (unmounted share?)",
            code="media_unavailable", status=503,
        )  # fmt: skip
    return PrecheckFailed(f"the media file is gone: {media}", code="media_not_found", status=404)


FORCED_VARIANT = FORCED  # a forced subtitle: only the foreign passages (issue 22)


def output_options(
    settings: Mapping[str, Any], *, fmt: str | None, variant: str | None
) -> OutputOptions:
    """The settings' output options, with the job's format and variant tag."""
    options = OutputOptions.from_settings(settings, fmt=fmt)
    return replace(options, tag=variant) if variant else options


def planned_output(
    *, media: Path, language: str | None, settings: Mapping[str, Any], fmt: str | None,
    variant: str | None, forced: bool = False, sdh: bool = False,
) -> Path | None:  # fmt: skip
    """Where the job's subtitle will go; None while its language is unknown (detection)."""
    if not language:
        return None
    if variant == FORCED_VARIANT:  # Film.eng[.tag].forced.srt (subtitler.workers.forced)
        return subtitle_path(media, language=language, forced=True,
                             options=output_options(settings, fmt=fmt, variant=None))  # fmt: skip
    return subtitle_path(media, language=language, options=output_options(
        settings, fmt=fmt, variant=variant), forced=forced, sdh=sdh)  # fmt: skip


def _source_flags(job: Mapping[str, Any]) -> tuple[bool, bool]:
    """(forced, sdh) of a subtitle translation's output: those of the subtitle it translates."""
    source = (job.get("options") or {}).get("subtitle_source")
    if job.get("job_type") != "subtitle_translation" or not isinstance(source, dict):
        return False, False
    forced = bool(source.get("forced"))
    return forced, bool(source.get("sdh")) and not forced


def output_language(job: Mapping[str, Any]) -> str | None:
    """The output language a job is known to write before it runs (None: after detection)."""
    target = job.get("target_lang")
    if target:
        return str(target)
    if job.get("transcribe_or_translate", "transcribe") == "transcribe":
        return job.get("source_lang") or None
    return None


def precheck(
    *,
    job: Mapping[str, Any],
    settings: Mapping[str, Any],
    written: Mapping[str, str],
    replaces: str | None = None,
) -> Path | None:
    """Raise PrecheckFailed when the job cannot succeed; returns its planned output path.

    `written` is {path: sha256} of the subtitles subtitler wrote for this media (ours may be
    replaced); `replaces` is a previous output a redo may overwrite."""
    media = Path(str(job["file_path"]))
    if not media.is_file():
        raise media_not_found(media)
    folder = media.parent
    forced, sdh = _source_flags(job)
    path = planned_output(
        media=media, language=output_language(job), settings=settings,
        fmt=job.get("output_format"), variant=job.get("variant") or None, forced=forced, sdh=sdh,
    )  # fmt: skip
    if path is not None and path.exists() and not settings.get("overwrite_existing_subtitles"):
        ours = str(path) == replaces or written.get(str(path)) == _sha(path)
        if not ours:
            raise PrecheckFailed(
                f"{path.name} exists and was not written by subtitler; turn on "
                "overwrite_existing_subtitles to replace it",
                code="output_exists", status=409,
            )  # fmt: skip
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PrecheckFailed(
            f"subtitler cannot write in {folder} (read-only or no permission)",
            code="output_not_writable", status=409,
        )  # fmt: skip
    need = int(settings.get("min_free_output_disk_mb") or 0) * MB
    free = shutil.disk_usage(folder).free
    if free < max(need, 1):
        raise PrecheckFailed(
            f"only {free // MB} MB free in {folder}; at least {need // MB} MB are needed",
            code="disk_full", status=507,
        )  # fmt: skip
    return path


def _sha(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


WRITE_ERRNO_CODES = {
    errno.ENOSPC: "disk_full",
    errno.EDQUOT: "disk_full",
    errno.EROFS: "output_not_writable",
    errno.EACCES: "output_not_writable",
    errno.EPERM: "output_not_writable",
}


def write_error(exc: OSError, path: Path) -> PrecheckFailed:
    """The job error for an OSError while writing `path`."""
    code = WRITE_ERRNO_CODES.get(exc.errno or 0)
    if code is None:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ESTALE):
            return media_not_found(path)
        code = "io_error"
    return PrecheckFailed(f"writing {path.name} failed: {exc.strerror or exc}", code=code)


def write_subtitle(
    path: Path, text: str, *, media: Path, before_replace: Callable[[str], None] | None = None
) -> str:
    """Write atomically with the errors mapped to job codes; the media must still exist after
    the rename, else the subtitle is removed (no orphan beside a deleted video).
    `before_replace(sha256)`: see `write_atomic`."""
    if not media.is_file():
        raise media_not_found(media)
    try:
        # removes its own temp file when it fails
        sha = write_atomic(path, text, before_replace=before_replace)
    except OSError as exc:
        raise write_error(exc, path) from exc
    if not media.is_file():
        with contextlib.suppress(OSError):
            path.unlink()
        raise media_not_found(media)
    return sha
