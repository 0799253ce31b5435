"""Issue 19: a database damaged only in an index (quick_check says ok, integrity_check does not)
refuses to start and makes /health unhealthy; backups are verified before they are kept (never
an empty or damaged `.bak-*`); start-up advice names only a verified backup; `subtitler db
restore` refuses empty and non-SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from subtitler.api import create_app
from subtitler.daemon import Daemon
from subtitler.db.migrate import BackupFailed, backup_sqlite
from subtitler.security import dbfile
from tests.conftest import start_server
from tests.reliability.test_startup import run_cli, serve_once

pytestmark = pytest.mark.slow


def damage_index(db: Path, index: str = "ix_settings_key", needle: bytes = b"api_key") -> None:
    """Rewrite one key inside the pages of `index` (same length: the b-tree stays well formed),
    so the index no longer matches its table: only a full integrity_check sees it."""
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")]
        if index not in names:  # the unique constraint's automatic index
            index = next(n for n in names if n.startswith("sqlite_autoindex_settings"))
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (index,))]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    changed = 0
    with db.open("r+b") as fh:
        for page in pages:
            fh.seek((page - 1) * page_size)
            data = fh.read(page_size)
            if needle in data:
                fh.seek((page - 1) * page_size)
                fh.write(data.replace(needle, needle[:-1] + b"\x7f"))
                changed += 1
    assert changed, f"{needle!r} not found in the pages of {index}"
    assert dbfile.check(db, quick=True) == []  # quick_check misses it...
    assert dbfile.check(db)  # ...integrity_check does not


def test_a_database_damaged_in_an_index_does_not_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = start_server(data)
    try:  # `db upgrade` takes the data-dir lock like every command that writes the database
        busy = run_cli("db", "upgrade", "--data-dir", str(data))
        assert busy.returncode == 2 and "uses this data dir" in busy.stderr, busy.stderr
    finally:
        srv.stop()
    backups = dbfile.backups(data / "subtitler.db")
    assert backups
    damage_index(data / "subtitler.db")
    refused = serve_once(data)
    assert refused.returncode == 2, refused.stderr
    assert "is damaged" in refused.stderr
    assert f"subtitler db restore {backups[-1]}" in refused.stderr
    assert "Traceback" not in refused.stderr
    check = run_cli("db", "check", "--data-dir", str(data))
    assert check.returncode == 1 and "damaged" in check.stderr
    upgrade = run_cli("db", "upgrade", "--data-dir", str(data))
    assert upgrade.returncode == 2 and "is damaged" in upgrade.stderr


async def test_health_turns_unhealthy_when_an_index_is_damaged_while_running(
    daemon: Daemon,
) -> None:
    app = create_app(daemon)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/health")).status_code == 200
        assert daemon.config.db_path is not None
        damage_index(daemon.config.db_path)
        problems = await daemon.monitor.check_now()  # what the periodic check runs
        assert problems and "database integrity" in problems[0]
        health = await http.get("/health")
        assert health.status_code == 503
        assert "database integrity" in health.text
        assert await daemon.monitor.backup_if_due() is None  # never copies a damaged file


def test_a_backup_that_does_not_verify_is_not_kept(tmp_path: Path) -> None:
    empty = tmp_path / "subtitler.db"
    empty.write_bytes(b"")
    with pytest.raises(BackupFailed):
        backup_sqlite(empty)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["subtitler.db"]

    good = tmp_path / "good" / "subtitler.db"
    good.parent.mkdir()
    conn = sqlite3.connect(good)
    conn.execute("PRAGMA journal_mode=WAL")  # as the daemon runs it
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    kept = backup_sqlite(good)
    conn.close()
    assert kept.stat().st_size > 0 and not dbfile.sqlite_problems(kept)
    # one self-contained file: no WAL mode, and no side files of the in-progress copy left behind
    check = sqlite3.connect(kept)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    check.close()
    assert sorted(p.name for p in good.parent.iterdir()) == ["subtitler.db", kept.name]


def test_advice_and_restore_skip_empty_and_foreign_backups(tmp_path: Path) -> None:
    data = tmp_path / "data"
    start_server(data).stop()
    db = data / "subtitler.db"
    good = dbfile.backups(db)[-1]
    # What an older version left after a failed backup: newer, but 0 bytes; and a stray file.
    zero = db.with_name(f"{db.name}.bak-99990101T000000000000")
    zero.write_bytes(b"")
    text = data / "notes.txt"
    text.write_text("not a database\n" * 100)
    for side in data.glob("subtitler.db-*"):
        side.unlink()
    db.write_bytes(b"")
    refused = serve_once(data)
    assert refused.returncode == 2
    assert f"subtitler db restore {good}" in refused.stderr
    assert str(zero) not in refused.stderr

    for bad, why in ((zero, "empty"), (text, "not an SQLite database")):
        answer = run_cli("db", "restore", str(bad), "--data-dir", str(data))
        assert answer.returncode == 2 and why in answer.stderr, answer.stderr
        assert db.stat().st_size == 0  # untouched
    assert run_cli("db", "restore", str(good), "--data-dir", str(data)).returncode == 0
    assert run_cli("db", "check", "--data-dir", str(data)).returncode == 0
