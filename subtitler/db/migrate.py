"""Apply Alembic migrations at start-up, after copying the SQLite file to a backup."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from subtitler.db.engine import Database

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BACKUPS_KEPT = 5
SQLITE_HEADER = b"SQLite format 3\x00"


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _current_and_head(connection: Connection) -> tuple[str | None, str | None]:
    current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return current, head


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


class BackupFailed(Exception):
    """The copy could not be written or did not verify; nothing was kept."""


def sqlite_problems(path: Path, *, quick: bool = True) -> list[str]:
    """What makes `path` no usable subtitler database: [] when it is an SQLite file holding
    tables that passes PRAGMA quick_check (or integrity_check)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        return [f"cannot read: {exc.strerror or exc}"]
    if not head:
        return ["the file is empty (0 bytes)"]
    if head != SQLITE_HEADER:
        return ["not an SQLite database"]
    pragma = "quick_check" if quick else "integrity_check"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return [f"cannot open: {exc}"]
    try:
        rows = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}(20)").fetchall()]
        if rows != ["ok"]:
            return rows
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            return ["the database holds no tables"]
    except sqlite3.Error as exc:
        return [str(exc)]
    finally:
        conn.close()
    return []


def backup_sqlite(db_file: Path) -> Path:
    """Copy a live SQLite file (WAL included) with SQLite's backup API, verify the copy (opens,
    passes quick_check, holds tables) and only then keep it, pruning to the newest few. A copy
    that fails is removed (BackupFailed): no empty or damaged `.bak-*` is ever left."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = db_file.with_name(f"{db_file.name}.bak-{stamp}")
    partial = db_file.with_name(f"{db_file.name}.backup-in-progress-{stamp}")
    try:
        src = sqlite3.connect(db_file)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                # The copy takes the source's WAL mode; a backup is one self-contained file, so
                # it leaves WAL (no -wal/-shm beside it, none left behind by the check below).
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        problems = sqlite_problems(partial)
        if problems:
            raise BackupFailed(f"the copy of {db_file} did not verify: {problems[0][:200]}")
        partial.replace(target)
    except (sqlite3.Error, OSError) as exc:
        raise BackupFailed(f"backup of {db_file} failed: {exc}") from exc
    finally:
        for end in ("", "-wal", "-shm"):
            partial.with_name(partial.name + end).unlink(missing_ok=True)
    old = sorted(db_file.parent.glob(f"{db_file.name}.bak-*"))
    for stale in old[:-BACKUPS_KEPT]:
        stale.unlink(missing_ok=True)
    return target


async def migrate(db: Database, *, sqlite_file: Path | None) -> str | None:
    """Bring the schema to head. Returns the backup path when one was made."""
    async with db.engine.connect() as conn:
        current, head = await conn.run_sync(_current_and_head)
    if current == head:
        return None
    backup: Path | None = None
    if sqlite_file is not None and current is not None:
        backup = await asyncio.to_thread(backup_sqlite, sqlite_file)
        logger.info("backed up %s to %s before migrating", sqlite_file, backup)
    logger.info("migrating database from %s to %s", current or "empty", head)
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade)
    return str(backup) if backup else None
