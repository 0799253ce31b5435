"""The SQLite file itself: refuse an empty or corrupt one at start-up, check, back up, restore.

Backups are `subtitler.db.bak-<UTC stamp>` next to the file, written with SQLite's online backup
API (subtitler.db.migrate.backup_sqlite), the newest few kept.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from subtitler.db.migrate import backup_sqlite, sqlite_problems

logger = logging.getLogger(__name__)


SIDE_FILES = ("-wal", "-shm", "-journal")


class DatabaseUnusable(Exception):
    """The database file cannot be served; the message says what to do."""


def backups(db_file: Path) -> list[Path]:
    """Backups of `db_file`, oldest first."""
    return sorted(
        p
        for p in db_file.parent.glob(f"{db_file.name}.bak-*")
        if p.is_file() and not p.name.endswith(SIDE_FILES)
    )


def newest_backup(db_file: Path) -> Path | None:
    """The newest backup that verifies (SQLite, holds tables, passes quick_check): advice never
    names an empty or damaged file (one an older version may have left)."""
    for candidate in reversed(backups(db_file)):
        if not sqlite_problems(candidate):
            return candidate
    return None


def check(db_file: Path, *, quick: bool = False) -> list[str]:
    """PRAGMA integrity_check (or quick_check) on a read-only connection: [] when ok."""
    pragma = "quick_check" if quick else "integrity_check"
    try:
        conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return [f"cannot open: {exc}"]
    try:
        rows = conn.execute(f"PRAGMA {pragma}(20)").fetchall()
    except sqlite3.Error as exc:
        return [str(exc)]
    finally:
        conn.close()
    problems = [str(row[0]) for row in rows]
    return [] if problems == ["ok"] else problems


def preflight(db_file: Path) -> None:
    """Raise DatabaseUnusable for a 0-byte or corrupt existing file (a missing one is a fresh
    install). Runs before migrations, so a broken file is never mistaken for a new one.

    The full PRAGMA integrity_check, not quick_check: quick_check does not compare indexes with
    their tables, and a database damaged in an index answers 500 on every list that uses it
    (about a second per 100 MB, once per start)."""
    if not db_file.exists():
        return
    if db_file.stat().st_size == 0:
        raise DatabaseUnusable(_advice(db_file, "is empty (0 bytes)"))
    started = time.monotonic()
    problems = check(db_file)
    logger.debug("integrity_check of %s: %.2f s", db_file, time.monotonic() - started)
    if problems:
        raise DatabaseUnusable(_advice(db_file, f"is damaged ({problems[0][:200]})"))


def _advice(db_file: Path, what: str) -> str:
    backup = newest_backup(db_file)
    if backup is None:
        return (
            f"the database {db_file} {what} and there is no backup next to it; move it away "
            "to start a fresh install (the API key and settings will be new)"
        )
    return (
        f"the database {db_file} {what}; the newest backup is {backup}: restore it with "
        f"`subtitler db restore {backup}`"
    )


def restore(db_file: Path, backup: Path) -> Path | None:
    """Replace `db_file` with a checked copy of `backup`; the old file is kept beside it as
    `.broken-<stamp>`. The daemon must not be running (the caller holds the data-dir lock)."""
    if not backup.is_file():
        raise DatabaseUnusable(f"no such backup: {backup}")
    problems = sqlite_problems(backup, quick=False)  # empty, not SQLite, no tables, damaged
    if problems:
        raise DatabaseUnusable(f"the backup {backup} cannot be restored: {problems[0][:200]}")
    kept: Path | None = None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    if db_file.exists():
        kept = db_file.with_name(f"{db_file.name}.broken-{stamp}")
        db_file.rename(kept)
    for suffix in ("-wal", "-shm"):
        side = db_file.with_name(db_file.name + suffix)
        if side.exists():
            side.rename(side.with_name(f"{side.name}.broken-{stamp}"))
    tmp = db_file.with_name(db_file.name + ".restoring")
    shutil.copyfile(backup, tmp)
    tmp.replace(db_file)
    return kept


def online_backup(db_file: Path) -> Path:
    """A consistent copy of the live database, made self-contained (no WAL side files)."""
    path = backup_sqlite(db_file)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    return path
