"""The Library, History, System and Logs pages in a real browser (tests/e2e/pages.spec.mjs does
the clicking): a generated library of 200 files (paging, search, filters, "subtitle now"), a
History download parsed as SRT, System warnings with jobs queued and no worker, the Logs tail
showing a job's lines, axe-core on every page and every dialog in both themes (0 serious or
critical violations), every page fitting 1280x800 and 1024x768 without a horizontal scrollbar,
the API key's Show/Copy giving the real key (read back from the clipboard and used against the
API), the wizard keeping a typed server URL without its Save, and a phone-width screenshot of
every page.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pysubs2
import pytest

from tests.conftest import start_server
from tests.e2e.test_ui import CHROMIUM, _missing
from tests.mediagen import Audio, Spec, make_media

SPEC = Path(__file__).with_name("pages.spec.mjs")
SRT = (
    "1\n00:00:01,000 --> 00:00:02,500\nGood evening and welcome.\n\n"
    "2\n00:00:03,000 --> 00:00:04,200\nHere is the news.\n\n"
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def make_library(root: Path, gen: Path) -> dict[str, Path]:
    """200 media files: 19 series x 10 episodes with English audio, 10 Japanese films (the
    rule's matches); five films have an English subtitle beside them."""
    eng = make_media(gen / "eng.mkv", Spec(audio=(Audio(language="eng"),)))
    jpn = make_media(gen / "jpn.mkv", Spec(audio=(Audio(language="jpn"),)))
    files: dict[str, Path] = {}
    for s in range(19):
        for e in range(10):
            season = 1 + e // 5
            name = f"Show {s:02d} S{season:02d}E{e + 1:02d}.mkv"
            path = root / "TV" / f"Show {s:02d}" / f"Season {season:02d}" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(eng, path)
            files[name] = path
    for f in range(10):
        path = root / "Films" / f"Film {f:02d} (2020)" / f"Film {f:02d} (2020).mkv"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(jpn, path)
        files[path.name] = path
        if f < 5:
            path.with_suffix(".en.srt").write_text(SRT, encoding="utf-8")
    old = time.time() - 3600
    for p in root.rglob("*"):
        os.utime(p, (old, old))
    return files


def record_written(db: Path, *, subtitle: Path, video: Path) -> str:
    """A subtitle as the worker records it (written_subtitles), straight into the daemon's DB."""
    path = str(subtitle)
    uid = hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()[:16]
    sha = hashlib.sha256(subtitle.read_bytes()).hexdigest()
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO written_subtitles (path, job_id, media_path, language, sha256, written_at,"
            " uid) VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP, ?)",
            (path, None, str(video), "eng", sha, uid),
        )
    return uid


@pytest.mark.timeout(900)  # the browser gets 600 s, then teardown
def test_library_history_system_logs_pages(tmp_path: Path) -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    library = tmp_path / "library"
    files = make_library(library, tmp_path / "gen")
    shots = Path(os.environ.get("SUBTITLER_E2E_SHOTS", tmp_path / "screenshots")) / "pages"
    shutil.rmtree(shots, ignore_errors=True)
    server = start_server(tmp_path / "data", env={"SUBTITLER_START_WORKERS": "false"})
    try:
        setup = httpx.post(
            f"{server.url}/api/setup/standalone",
            json={
                "library_paths": [str(library)],
                "scan_rules": [
                    {
                        "name": "Japanese films",
                        "audio_language_is": "jpn",
                        "target_language": "eng",
                        "action_type": "transcribe",
                        "quality_preset": "fast",
                    },
                ],
                "first_scan": True,
            },
            timeout=30,
        )
        assert setup.status_code == 200, setup.text
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = httpx.get(f"{server.url}/api/scanner/status", timeout=5).json()
            if status["total_scans"] >= 1 and not status["scan_in_progress"]:
                break
            time.sleep(0.3)
        listing = httpx.get(f"{server.url}/api/library", timeout=10).json()
        assert listing["total"] == 200, listing["total"]
        news = files["Show 00 S01E01.mkv"]
        sub = news.with_suffix(".eng.srt")
        sub.write_text(SRT, encoding="utf-8")
        record_written(server.data_dir / "subtitler.db", subtitle=sub, video=news)

        with sqlite3.connect(server.data_dir / "subtitler.db") as conn:
            (api_key,) = conn.execute("SELECT value FROM settings WHERE key = 'api_key'").fetchone()
        proc = subprocess.run(
            ["node", str(SPEC)],
            env={
                **os.environ,
                "API_KEY": api_key,
                "SUBTITLER_URL": server.url,
                "SHOTS_DIR": str(shots),
                "LIBRARY_DIR": str(library),
                "CHROMIUM": CHROMIUM,
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.stop(signal.SIGTERM)
    output = proc.stdout + proc.stderr
    print(output)
    assert proc.returncode == 0, f"pages.spec.mjs failed:\n{output}\n--- daemon ---\n{server.log()}"
    downloaded = shots / "download.srt"
    parsed = pysubs2.load(str(downloaded), encoding="utf-8", format_="srt")
    assert [e.plaintext for e in parsed] == ["Good evening and welcome.", "Here is the news."]
    names = {p.name for p in shots.glob("*.png")}
    for page in (
        "library",
        "history",
        "queue",
        "system",
        "logs",
        "settings",
        "dashboard",
        "rules",
        "scanner",
        "workers",
        "setup",
    ):
        assert f"phone-{page}.png" in names, f"no phone screenshot of {page}: {sorted(names)}"
    log_text = (tmp_path / "data" / "logs" / "subtitler.log").read_text()
    assert "apikey=" not in log_text.lower()
