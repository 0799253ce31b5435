"""Browsing folders for the path pickers. Permissions are the daemon's own: a folder it cannot
read is 403, whether reached directly or through a symlink."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from subtitler.errors import BadRequest, Forbidden, NotFound

COMMON_CANDIDATES = (
    "/",
    "/media",
    "/mnt",
    "/data",
    "/movies",
    "/tv",
    "/anime",
    "/music",
    "/downloads",
    "/srv",
    "/home",
)


def _item(entry_path: Path, name: str) -> dict[str, Any]:
    try:
        is_dir = entry_path.is_dir()  # follows symlinks: a link to a folder browses as one
    except OSError:
        is_dir = False
    mode = os.R_OK | os.X_OK if is_dir else os.R_OK
    return {
        "name": name,
        "path": str(entry_path),
        "is_directory": is_dir,
        "is_readable": os.access(entry_path, mode),
    }


def browse(
    path: str, *, show_hidden: bool = False, directories_only: bool = False
) -> dict[str, Any]:
    if not path:
        path = "/"
    requested = Path(path).expanduser()
    if not requested.is_absolute():
        raise BadRequest(f"Path must be absolute: {path}", code="path_not_absolute")
    if not requested.exists():
        raise NotFound(f"Path does not exist: {path}", code="path_not_found")
    current = requested.resolve()
    if not current.is_dir():
        raise BadRequest(f"Path is not a directory: {path}", code="not_a_directory")
    try:
        with os.scandir(current) as entries:
            names = [entry.name for entry in entries]
    except PermissionError:
        raise Forbidden(f"Permission denied: {path}", code="permission_denied") from None
    items = [
        _item(current / name, name) for name in names if show_hidden or not name.startswith(".")
    ]
    if directories_only:
        items = [item for item in items if item["is_directory"]]
    items.sort(key=lambda item: (not item["is_directory"], item["name"].casefold(), item["name"]))
    parent = None if current == current.parent else str(current.parent)
    return {"current_path": str(current), "parent_path": parent, "items": items}


def common_paths(library_paths: list[str]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    home = str(Path.home())
    for candidate in (*library_paths, *COMMON_CANDIDATES, home):
        path = Path(candidate)
        if str(path) in seen or not path.is_dir():
            continue
        seen.add(str(path))
        out.append(_item(path, str(path)))
    return out
