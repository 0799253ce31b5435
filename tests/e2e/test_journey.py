"""Issue 18, the household's first hour in Chromium (tests/e2e/journey.spec.mjs clicks): a fresh
data dir, the wizard finished with every default, the first scan, real jobs on the bundled model
over short espeak clips, the Library showing the files Done (and counted by the Done filter), the
user's own .en.srt respected. Meanwhile the log is downloaded again and again while the jobs write
to it: each download is the file as it was when the request came, byte for byte."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_server
from tests.e2e.test_ui import CHROMIUM, _missing
from tests.speechgen import ENGLISH, MediaFactory, Track

SPEC = Path(__file__).with_name("journey.spec.mjs")
WEATHER = "Tomorrow will be cold and windy in the north, with rain in the afternoon."
USERS_SRT = "1\n00:00:00,500 --> 00:00:02,000\nOur own subtitle.\n\n"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def make_library(root: Path, gen: Path) -> Path:
    factory = MediaFactory(gen)
    movies = root / "Movies"
    movies.mkdir(parents=True)
    news = factory.mkv([Track(factory.speech(ENGLISH), language="eng")])
    weather = factory.mkv([Track(factory.speech(WEATHER), language="eng")])
    shutil.copyfile(news, movies / "news.mkv")
    shutil.copyfile(weather, movies / "weather.mkv")
    shutil.copyfile(weather, movies / "users.mkv")
    (movies / "users.en.srt").write_text(USERS_SRT, encoding="utf-8")
    old = time.time() - 3600  # settled files: the scanner does not wait for them
    for f in movies.iterdir():
        os.utime(f, (old, old))
    return root


def download_matches(url: str, log: Path) -> tuple[int, int]:
    """Download the log; (bytes, size on disk before the request). Asserts it is the file's
    prefix as it was then (the file only grows here)."""
    before = log.stat().st_size
    with httpx.stream("GET", f"{url}/api/logs/download", timeout=30) as resp:
        assert resp.status_code == 200
        length = int(resp.headers["content-length"])
        body = resp.read()
    assert len(body) == length >= before
    assert log.read_bytes()[:length] == body
    return length, before


@pytest.mark.timeout(900)  # the browser gets 600 s (real jobs on a busy machine), then teardown
def test_first_hour_with_every_wizard_default(tmp_path: Path) -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    library = make_library(tmp_path / "library", tmp_path / "gen")
    shots = Path(os.environ.get("SUBTITLER_E2E_SHOTS", tmp_path / "screenshots")) / "journey"
    shutil.rmtree(shots, ignore_errors=True)
    server = start_server(tmp_path / "data")  # the pool starts as a fresh install's does
    log = tmp_path / "data" / "logs" / "subtitler.log"
    downloads: list[tuple[int, int, bool]] = []
    try:
        proc = subprocess.Popen(
            ["node", str(SPEC)],
            env={
                **os.environ,
                "SUBTITLER_URL": server.url,
                "SHOTS_DIR": str(shots),
                "LIBRARY_DIR": str(library),
                "CHROMIUM": CHROMIUM,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            jobs = httpx.get(f"{server.url}/api/jobs", timeout=10).json()["jobs"]
            busy = any(j["status"] == "processing" for j in jobs)
            if log.is_file():
                length, before = download_matches(server.url, log)
                downloads.append((length, before, busy))
            time.sleep(1.0)
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate(timeout=30)[0]
    finally:
        server.stop(signal.SIGTERM)
    print(output)
    daemon_log = server.log()
    assert proc.returncode == 0, f"journey.spec.mjs failed:\n{output}\n--- daemon ---\n{daemon_log}"
    assert any(busy for _, _, busy in downloads), "no log download happened while a job ran"
    assert len({length for length, _, _ in downloads}) > 1  # the file grew between downloads
    movies = library / "Movies"
    assert sorted(p.name for p in movies.glob("*.srt")) == [
        "news.eng.srt", "users.en.srt", "weather.eng.srt",
    ]  # fmt: skip
    assert (movies / "users.en.srt").read_text(encoding="utf-8") == USERS_SRT
    text = log.read_text(errors="replace")
    access = [ln for ln in text.splitlines() if "uvicorn.access" in ln]
    assert not any('"GET /api/logs' in ln or '"GET /health' in ln for ln in access)
