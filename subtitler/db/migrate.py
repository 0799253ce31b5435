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


def backup_sqlite(db_file: Path) -> Path:
    """Copy a live SQLite file (WAL included) with SQLite's backup API; keep the newest few."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = db_file.with_name(f"{db_file.name}.bak-{stamp}")
    src = sqlite3.connect(db_file)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
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
