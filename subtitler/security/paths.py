"""Which files the API may act on: only those under `library_paths` or `allowed_paths` (plus the
SUBTITLER_ALLOWED_PATHS environment list), so a LAN client cannot make subtitler read or write
beside arbitrary files. Checked before the file system is asked anything, so the answer never
reveals whether a path outside those folders exists."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from subtitler.errors import BadRequest, Forbidden

MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255


def check_path_text(file_path: str, *, field: str = "file_path") -> None:
    """NUL bytes and over-long paths are the client's mistake: 400 before any syscall."""
    if "\x00" in file_path:
        raise BadRequest(f"{field}: NUL bytes are not allowed", code="nul_byte")
    encoded = file_path.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_PATH_BYTES or any(
        len(part) > MAX_NAME_BYTES for part in encoded.split(b"/")
    ):
        raise BadRequest(f"{field}: the path is too long", code="path_too_long")


MAX_FOLDERS = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_folder_list(values: list[str], *, windows: bool = False) -> None:
    """A folder-list setting (library_paths, allowed_paths, ...): at most MAX_FOLDERS absolute
    paths, each under MAX_PATH_BYTES with names under MAX_NAME_BYTES and no control characters
    (a newline or tab is a paste mistake, never a folder). ValueError says which and why."""
    if len(values) > MAX_FOLDERS:
        raise ValueError(f"at most {MAX_FOLDERS} folders")
    for item in values:
        shown = repr(item[:80] + ("..." if len(item) > 80 else ""))
        if _CONTROL.search(item):
            raise ValueError(f"{shown}: newlines, tabs and control characters are not allowed")
        try:
            check_path_text(item, field="folder")
        except BadRequest as exc:
            raise ValueError(f"{shown}: {exc.detail}") from None
        absolute = PurePosixPath(item).is_absolute() or (
            windows and PureWindowsPath(item).is_absolute()
        )
        if not absolute:
            raise ValueError(f"{shown} is not an absolute folder path")


def env_roots() -> list[str]:
    return [p for p in os.environ.get("SUBTITLER_ALLOWED_PATHS", "").split(os.pathsep) if p]


def allowed_roots(settings: Callable[[str], Any], extra: Iterable[str] = ()) -> list[Path]:
    roots: list[Path] = []
    for item in [
        *(settings("library_paths") or []),
        *(settings("allowed_paths") or []),
        *env_roots(),
        *extra,
    ]:
        try:
            roots.append(Path(item).resolve())
        except (OSError, ValueError):
            continue
    return roots


def _inside(real: Path, roots: Iterable[Path]) -> bool:
    return any(real == root or real.is_relative_to(root) for root in roots)


def check_allowed(
    file_path: str, settings: Callable[[str], Any], *, field: str = "file_path"
) -> str:
    """THE path check of every entry point (API jobs, webhooks, scans, the watcher, library
    actions, /asr `video_file`, analyze): 400 for NUL/over-long/relative paths, 403
    `path_not_allowed` when no library folder is set at all or when the path, with `..`
    collapsed and symlinks followed, lies outside `library_paths`/`allowed_paths`.

    Returns the path to use from here on: absolute with `..` collapsed, and whose real location
    (symlinks followed) is the one that was checked."""
    check_path_text(file_path, field=field)
    if not Path(file_path).is_absolute():
        raise BadRequest(f"{field} must be absolute: {file_path!r}", code="path_not_absolute")
    roots = allowed_roots(settings)
    if not roots:
        raise Forbidden(
            f"{field}: no library folder is set, so no file may be used: add one to "
            "library_paths (or allowed_paths)",
            code="path_not_allowed",
        )
    normal = os.path.normpath(file_path)
    if normal.startswith("//"):  # POSIX keeps a leading double slash; it means the same
        normal = "/" + normal.lstrip("/")
    try:
        real = Path(normal).resolve()  # symlinks out of the library do not count as inside it
    except (OSError, ValueError, RuntimeError):
        real = None
    if real is None or not _inside(real, roots):
        raise Forbidden(
            f"{field} is outside the library: add its folder to library_paths or allowed_paths",
            code="path_not_allowed",
        )
    return normal


def is_allowed(file_path: str, settings: Callable[[str], Any]) -> bool:
    """`check_allowed` as a yes/no (callers that must not reveal why)."""
    return allowed_path(file_path, settings) is not None


def allowed_path(file_path: str, settings: Callable[[str], Any]) -> str | None:
    """The path `check_allowed` returns, or None where it refuses."""
    try:
        return check_allowed(file_path, settings)
    except (BadRequest, Forbidden):
        return None


def real_roots(settings: Callable[[str], Any]) -> tuple[str, ...]:
    """The allowed folders, symlinks resolved: what a walk may reach through a symlink."""
    return tuple(str(root) for root in allowed_roots(settings))


def real_inside(path: str, roots: Iterable[str]) -> bool:
    """Whether `path` (symlinks followed) lies under one of `roots` (already resolved)."""
    try:
        real = Path(path).resolve()
    except (OSError, ValueError, RuntimeError):
        return False
    return _inside(real, (Path(r) for r in roots))
