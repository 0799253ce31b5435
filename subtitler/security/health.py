"""Periodic health of the data folder and the database, feeding /health; scheduled backups.

Every `db_check_minutes` a full PRAGMA integrity_check (indexes compared with their tables, which
quick_check skips) and a write probe run on their own read-only /
short-lived connection; every `db_backup_hours` an online backup is written. The disk floor is
checked live on each /health call (statvfs is cheap).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from subtitler.db.migrate import BackupFailed
from subtitler.security import dbfile
from subtitler.security.disk import disk_full_problem

logger = logging.getLogger(__name__)

TICK_SECONDS = 5.0


def write_probe(db_file: Path) -> str | None:
    """Can the database take a write lock? (read-only file or mount, or I/O errors)."""
    try:
        conn = sqlite3.connect(db_file, timeout=5)
    except sqlite3.Error as exc:
        return f"database cannot be opened ({exc})"
    try:
        conn.isolation_level = None
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None  # another writer: not a failure
        return f"database is read-only or failing ({exc})"
    finally:
        conn.close()
    return None


class HealthMonitor:
    def __init__(
        self, *, data_dir: Path, db_file: Path | None, settings: Callable[[str], Any]
    ) -> None:
        self.data_dir = data_dir
        self.db_file = db_file
        self._setting = settings
        self.db_problems: list[str] = []
        self.last_check: float | None = None
        self.last_backup: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.db_file is not None:
            found = dbfile.backups(self.db_file)  # only its time: no verification needed here
            self.last_backup = found[-1].stat().st_mtime if found else None
        self._task = asyncio.create_task(self._loop(), name="health-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def problems(self) -> list[str]:
        found: list[str] = []
        disk = disk_full_problem(self.data_dir, self._setting)
        if disk:
            found.append(disk)
        if not os.access(self.data_dir, os.W_OK):
            found.append("data folder is read-only")
        found.extend(self.db_problems)
        return found

    async def check_now(self) -> list[str]:
        if self.db_file is None or not self.db_file.exists():
            self.db_problems = []
        else:
            problems = await asyncio.to_thread(dbfile.check, self.db_file)
            found = [f"database integrity: {p[:200]}" for p in problems[:3]]
            probe = await asyncio.to_thread(write_probe, self.db_file)
            if probe:
                found.append(probe)
            self.db_problems = found
            for problem in found:
                logger.error("health: %s", problem)
        self.last_check = time.time()
        return self.db_problems

    async def backup_if_due(self) -> Path | None:
        hours = int(self._setting("db_backup_hours"))
        if self.db_file is None or hours <= 0 or not self.db_file.exists():
            return None
        if self.last_backup is not None and time.time() - self.last_backup < hours * 3600:
            return None
        if disk_full_problem(self.data_dir, self._setting) or self.db_problems:
            return None  # never fill the disk or copy a damaged file over good backups
        try:
            path = await asyncio.to_thread(dbfile.online_backup, self.db_file)
        except BackupFailed as exc:  # nothing kept; try again next period
            self.last_backup = time.time()
            logger.error("scheduled database backup failed: %s", exc)
            return None
        self.last_backup = time.time()
        logger.info("database backup written: %s", path)
        return path

    async def _loop(self) -> None:
        while True:
            try:
                interval = int(self._setting("db_check_minutes")) * 60
                if self.last_check is None or time.time() - self.last_check >= interval:
                    await self.check_now()
                await self.backup_if_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("health monitor tick failed")
            await asyncio.sleep(TICK_SECONDS)
