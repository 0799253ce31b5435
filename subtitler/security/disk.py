"""Disk limits for uploads: a free-space floor for the data folder and a spool quota."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from subtitler.errors import InsufficientStorage, PayloadTooLarge

MIB = 1024 * 1024


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def spool_bytes(spool_dir: Path) -> int:
    total = 0
    try:
        with os.scandir(spool_dir) as entries:
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
    except OSError:
        return 0
    return total


def disk_full_problem(data_dir: Path, settings: Callable[[str], Any]) -> str | None:
    floor = int(settings("min_free_disk_mib")) * MIB
    try:
        free = free_bytes(data_dir)
    except OSError as exc:
        return f"data folder unreadable ({exc.strerror})"
    if free < floor:
        return f"disk full ({free // MIB} MiB free, floor {floor // MIB} MiB)"
    return None


class UploadBudget:
    """Checked before an upload starts and every few MiB while it streams to the spool."""

    CHECK_EVERY = 8 * MIB

    def __init__(self, *, spool_dir: Path, settings: Callable[[str], Any]) -> None:
        self.spool_dir = spool_dir
        self.max_bytes = int(settings("max_upload_mib")) * MIB
        self.floor = int(settings("min_free_disk_mib")) * MIB
        self.quota = int(settings("spool_quota_mib")) * MIB
        self._spooled_before = 0
        self._next_check = 0

    def before(self, expected: int | None) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        if expected is not None and expected > self.max_bytes:
            raise self._too_large()
        self._spooled_before = spool_bytes(self.spool_dir)
        self._check_space(expected or 0, include_spool=False)

    def during(self, size: int) -> None:
        if size > self.max_bytes:
            raise self._too_large()
        if size >= self._next_check:
            self._next_check = size + self.CHECK_EVERY
            self._check_space(0, include_spool=True, current=size)

    def _check_space(self, more: int, *, include_spool: bool, current: int = 0) -> None:
        free = free_bytes(self.spool_dir)
        if free - more < self.floor:
            raise InsufficientStorage(
                f"not enough disk space for the upload: {free // MIB} MiB free and subtitler "
                f"keeps {self.floor // MIB} MiB (min_free_disk_mib)",
                code="disk_full",
            )
        if self._spooled_before + current + more > self.quota:
            raise InsufficientStorage(
                f"the spool of waiting uploads is full ({self.quota // MIB} MiB, "
                "spool_quota_mib): try again when queued requests have finished",
                code="spool_full",
            )

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the upload is larger than {self.max_bytes // MIB} MiB (max_upload_mib)",
            code="upload_too_large",
        )
