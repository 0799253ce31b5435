"""/health's periodic database check: a damaged file makes it 503 "degraded: ..."; scheduled
backups are written with SQLite's online backup API and checked."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import httpx

from subtitler.daemon import Daemon
from subtitler.security import dbfile
from subtitler.security.health import HealthMonitor


def _damage(db: Path) -> None:
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with db.open("r+b") as fh:
        for page in range(2, pages):
            fh.seek(page * page_size + 16)
            fh.write(b"\xde\xad\xbe\xef" * 64)


async def test_quick_check_failure_degrades_health(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    assert daemon.config.db_path is not None
    assert await daemon.monitor.check_now() == []
    copy = tmp_path / "copy.db"
    conn = sqlite3.connect(daemon.config.db_path)
    conn.execute(f"VACUUM INTO '{copy}'")
    conn.close()
    _damage(copy)
    daemon.monitor.db_file = copy  # the monitor now watches a damaged file
    problems = await daemon.monitor.check_now()
    assert problems and problems[0].startswith("database integrity")
    resp = await client.get("/health")
    assert resp.status_code == 503
    assert resp.json()["detail"].startswith("degraded: database integrity")


async def test_scheduled_backup_is_written_and_sound(daemon: Daemon, tmp_path: Path) -> None:
    assert daemon.config.db_path is not None
    db = tmp_path / "subtitler.db"
    with sqlite3.connect(daemon.config.db_path) as live:  # the tables live in the WAL until then
        live.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copyfile(daemon.config.db_path, db)
    monitor = HealthMonitor(data_dir=tmp_path, db_file=db, settings=daemon.settings.get)
    first = await monitor.backup_if_due()
    assert first is not None and dbfile.check(first) == []
    assert await monitor.backup_if_due() is None  # not due again for db_backup_hours
    assert dbfile.newest_backup(db) == first
