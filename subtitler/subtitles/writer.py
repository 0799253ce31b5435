"""Atomic subtitle writes: a temp file in the same folder, fsync, then os.replace."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from subtitler.errors import Conflict

logger = logging.getLogger(__name__)

TEMP_PREFIX = ".subtitler-"
TEMP_SUFFIX = ".tmp"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_writable(
    path: Path, *, overwrite: bool, written_by_us: Callable[[Path, str], bool]
) -> None:
    """Refuse (code `output_exists`) to replace a subtitle subtitler did not write.

    `written_by_us(path, sha256)` answers from the record of files subtitler wrote; the
    `overwrite_existing_subtitles` setting (`overwrite`) lifts the refusal.
    """
    if overwrite or not path.exists():
        return
    if written_by_us(path, file_sha256(path)):
        return
    raise Conflict(
        f"{path.name} exists and was not written by subtitler; turn on "
        "overwrite_existing_subtitles to replace it",
        code="output_exists",
    )


def write_atomic(
    path: Path, content: str | bytes, *, before_replace: Callable[[str], None] | None = None
) -> str:
    """Write `content` (str as UTF-8) to `path` atomically; return its sha256 hex digest.

    `before_replace(sha256)` runs once the data is safely in the temp file and before it is
    renamed into place: the moment to record that subtitler is writing this file."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    digest = hashlib.sha256(data).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(0o644)
        if before_replace is not None:
            before_replace(digest)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    logger.debug("wrote %s (%d bytes)", path, len(data))
    return digest


def remove_stale_temp_files(folder: Path) -> int:
    """Delete temp files a killed writer left in `folder`; returns how many went."""
    removed = 0
    for tmp in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed += 1
    return removed


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
