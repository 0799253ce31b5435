"""Issue 18, logs for people, on a real `subtitler serve` (uvicorn, its access log, the rotating
log file): the page's own polling stays out of the log unless a setting asks for it, the Logs
page's reads never appear in it, and a download is the file as it was when the request came
while the daemon keeps writing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, start_server

pytestmark = pytest.mark.slow


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = start_server(tmp_path / "data", env={"SUBTITLER_START_WORKERS": "false"})
    try:
        yield srv
    finally:
        srv.stop()


def _log_file(srv: ServerProcess) -> Path:
    return srv.data_dir / "logs" / "subtitler.log"


def _access_lines(srv: ServerProcess) -> list[str]:
    text = _log_file(srv).read_text(errors="replace")
    return [ln for ln in text.splitlines() if "uvicorn.access" in ln]


def test_polling_is_not_logged_unless_asked_and_the_filter_never(
    quiet_server: ServerProcess,
) -> None:
    url = quiet_server.url
    with httpx.Client(base_url=url, timeout=10) as http:
        for _ in range(3):
            assert http.get("/health").status_code == 200
            assert http.get("/api/jobs").status_code == 200
            logs = http.get("/api/logs", params={"q": "needle-in-the-log"}).json()
            assert logs["lines"] == []  # the filter request did not log itself
        assert http.get("/api/no-such-route").status_code == 404  # errors are always logged
        created = http.post("/api/scan-rules", json={"name": "logged write"})
        assert created.status_code == 201, created.text
        time.sleep(0.3)
        lines = _access_lines(quiet_server)
        assert not any("/health" in ln or '"GET /api/jobs' in ln for ln in lines), lines
        assert not any("/api/logs" in ln for ln in lines)
        assert any('"POST /api/scan-rules' in ln for ln in lines)
        assert any("/api/no-such-route" in ln for ln in lines)

        # the setting brings the polling lines back (live); the Logs page's own reads stay out
        on = http.put("/api/settings/log_polling_requests", json={"value": True})
        assert on.status_code == 200, on.text
        http.get("/health")
        http.get("/api/logs", params={"q": "needle-in-the-log"})
        time.sleep(0.3)
        lines = _access_lines(quiet_server)
        assert any('"GET /health' in ln for ln in lines)
        assert not any("/api/logs" in ln for ln in lines)
        assert http.get("/api/logs", params={"q": "needle-in-the-log"}).json()["lines"] == []


def test_download_is_the_file_at_request_time_while_it_grows(
    quiet_server: ServerProcess,
) -> None:
    url = quiet_server.url
    path = _log_file(quiet_server)
    stop = threading.Event()

    def write_logs() -> None:  # the daemon writes a line per request, all the time
        with httpx.Client(base_url=url, timeout=10) as http:
            n = 0
            while not stop.is_set():
                http.post("/api/scan-rules", json={"name": f"rule {n} " + "x" * 200})
                n += 1

    writers = [threading.Thread(target=write_logs) for _ in range(2)]
    for w in writers:
        w.start()
    try:
        deadline = time.monotonic() + 30
        while path.stat().st_size < 200_000 and time.monotonic() < deadline:
            time.sleep(0.1)  # bigger than one chunk, so the download takes many reads
        assert path.stat().st_size >= 200_000
        for _ in range(4):
            before = path.stat().st_size
            with httpx.stream("GET", f"{url}/api/logs/download", timeout=30) as resp:
                assert resp.status_code == 200
                length = int(resp.headers["content-length"])
                body = resp.read()  # raises on a length mismatch
                after = path.stat().st_size
            assert len(body) == length
            assert before <= length <= after
            assert resp.headers["content-disposition"].startswith("attachment")
            assert path.read_bytes()[:length] == body  # the file as it was, byte for byte
    finally:
        stop.set()
        for w in writers:
            w.join()
