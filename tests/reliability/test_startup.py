"""Start-up as a careless user meets it: a second daemon on the same data dir, an empty or
corrupt database, `subtitler db check/restore`, and `api-key --regenerate` on a live daemon."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SUBTITLER, ServerProcess, free_port, start_server

pytestmark = pytest.mark.slow


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SUBTITLER, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def serve_once(data_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--data-dir", str(data_dir),
        timeout=timeout,
    )  # fmt: skip


def key_of(srv: ServerProcess) -> str:
    return run_cli("api-key", "--data-dir", str(srv.data_dir)).stdout.strip()


def test_second_daemon_on_the_same_data_dir_exits_2_and_touches_nothing(
    server: ServerProcess,
) -> None:
    key = key_of(server)
    spool = server.data_dir / "spool" / "upload-in-flight"
    spool.write_bytes(b"a live request's audio")
    db = server.data_dir / "subtitler.db"
    before = db.stat().st_mtime_ns
    second = serve_once(server.data_dir)
    assert second.returncode == 2, second.stderr
    assert f"another subtitler (pid {server.proc.pid}) uses this data dir" in second.stderr
    assert "Traceback" not in second.stderr
    assert spool.exists(), "the second start emptied the live daemon's spool"
    assert db.stat().st_mtime_ns == before
    health = httpx.get(f"{server.url}/api/status", headers={"X-Api-Key": key}, timeout=5)
    assert health.status_code == 200


def test_empty_database_refuses_to_start_naming_the_newest_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = start_server(data)
    srv.stop()
    db = data / "subtitler.db"
    backups = sorted(data.glob("subtitler.db.bak-*"))
    assert backups, "a scheduled backup is written at the first start"
    for wal in data.glob("subtitler.db-*"):
        wal.unlink()
    db.write_bytes(b"")
    refused = serve_once(data)
    assert refused.returncode == 2
    assert "is empty (0 bytes)" in refused.stderr
    assert f"subtitler db restore {backups[-1]}" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert db.stat().st_size == 0, "an empty database must not become a fresh install"
    check = run_cli("db", "check", "--data-dir", str(data))
    assert check.returncode == 1 and "empty" in check.stderr
    restored = run_cli("db", "restore", str(backups[-1]), "--data-dir", str(data))
    assert restored.returncode == 0, restored.stderr
    assert run_cli("db", "check", "--data-dir", str(data)).returncode == 0
    again = start_server(data)
    try:
        assert httpx.get(f"{again.url}/health", timeout=5).status_code == 200
    finally:
        again.stop()


def _corrupt(db: Path) -> None:
    """Overwrite pages in the middle of the file (the header stays valid)."""
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with db.open("r+b") as fh:
        for page in range(2, pages):
            fh.seek(page * page_size + 16)
            fh.write(b"\xde\xad\xbe\xef" * 64)


def test_corrupt_database_refuses_to_start_without_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = start_server(data)
    srv.stop()
    for wal in data.glob("subtitler.db-*"):
        wal.unlink()
    _corrupt(data / "subtitler.db")
    refused = serve_once(data)
    assert refused.returncode == 2, refused.stderr
    assert "is damaged" in refused.stderr and "subtitler db restore" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.splitlines()) < 5
    check = run_cli("db", "check", "--data-dir", str(data))
    assert check.returncode == 1 and "damaged" in check.stderr


def test_api_key_regenerate_applies_to_the_running_daemon(server: ServerProcess) -> None:
    old = key_of(server)
    remote = {"X-Forwarded-For": "203.0.113.9"}  # untrusted proxy header: never local
    assert httpx.get(f"{server.url}/api/jobs", headers=remote, timeout=5).status_code == 401
    result = run_cli("api-key", "--regenerate", "--data-dir", str(server.data_dir))
    new = result.stdout.strip()
    assert result.returncode == 0 and new and new != old
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        resp = httpx.get(f"{server.url}/api/jobs", headers={**remote, "X-Api-Key": new}, timeout=5)
        if resp.status_code == 200:
            break
        time.sleep(0.1)
    assert resp.status_code == 200
    stale = httpx.get(f"{server.url}/api/jobs", headers={**remote, "X-Api-Key": old}, timeout=5)
    assert stale.status_code == 401
    assert old not in server.log() and new not in server.log()


def test_apikey_is_redacted_from_the_access_log(server: ServerProcess) -> None:
    key = key_of(server)
    # /status (Bazarr's) is always access-logged; the UI's own polling reads of /api/* are not
    # unless log_polling_requests is on (issue 18)
    httpx.get(f"{server.url}/status", params={"apikey": key}, timeout=5)
    httpx.get(f"{server.url}/status", params={"apikey": "guessed-wrong-key-123"}, timeout=5)
    time.sleep(0.3)
    log = server.log()
    assert "apikey=***" in log
    assert key not in log and "guessed-wrong-key-123" not in log
    server.stop(signal.SIGTERM)
