"""The web UI in a real browser: wizard, rules with preview, scan, a job completing live, cancel,
settings errors, Bazarr mode and the API-key prompt (tests/e2e/ui.spec.mjs does the clicking).

Needs the built UI (`scripts/build-frontend`), node with frontend/node_modules (playwright-core)
and Debian's chromium; skipped with the reason when one is missing. Screenshots of every page go
to $SUBTITLER_E2E_SHOTS (default: the test's tmp dir) — look at them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import SUBTITLER, start_server
from tests.speechgen import ENGLISH, MediaFactory, Track

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).with_name("ui.spec.mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
STATIC_INDEX = ROOT / "subtitler" / "static" / "index.html"
PLAYWRIGHT = ROOT / "frontend" / "node_modules" / "playwright-core"

MORE_ENGLISH = (
    "The river flows slowly through the old town, past the market and the bridge. "
    "In the morning the bakers open their doors and the smell of fresh bread fills the street. "
    "Children walk to school while the bells of the church ring eight times."
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if not PLAYWRIGHT.is_dir():
        return "frontend/node_modules is missing (scripts/build-frontend runs npm ci)"
    if not STATIC_INDEX.is_file():
        return "the web UI is not built (run scripts/build-frontend)"
    if shutil.which("ffmpeg") is None or shutil.which("espeak-ng") is None:
        return "ffmpeg and espeak-ng make the test media"
    return None


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Two small English videos: news.mkv (to complete) and other.mkv (to cancel)."""
    factory = MediaFactory(tmp_path / "gen")
    movies = tmp_path / "library" / "Movies"
    movies.mkdir(parents=True)
    news = factory.mkv([Track(factory.speech(ENGLISH), language="eng")])
    # ~2.5 minutes: taken first, it must still be running when the test cancels it a moment
    # later (40 s of speech took 2.5 s on a quiet machine)
    long_audio = factory.concat(
        [factory.speech(MORE_ENGLISH), factory.speech(ENGLISH), factory.speech(MORE_ENGLISH)] * 4
    )
    other = factory.mkv([Track(long_audio, language="eng")])
    shutil.copyfile(news, movies / "news.mkv")
    shutil.copyfile(other, movies / "other.mkv")
    old = time.time() - 3600  # settled files: the scanner does not wait for them to stop growing
    for f in movies.iterdir():
        os.utime(f, (old, old))
    return tmp_path / "library"


def test_web_ui_end_to_end(tmp_path: Path, library: Path) -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    shots = Path(os.environ.get("SUBTITLER_E2E_SHOTS", tmp_path / "screenshots"))
    shutil.rmtree(shots, ignore_errors=True)
    server = start_server(tmp_path / "data", env={"SUBTITLER_START_WORKERS": "false"})
    # The key is write-only through the API: read it the way a user does (`subtitler api-key`).
    api_key = subprocess.run(
        [SUBTITLER, "api-key", "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()  # fmt: skip
    try:
        proc = subprocess.run(
            ["node", str(SPEC)],
            env={
                **os.environ,
                "SUBTITLER_URL": server.url,
                "SUBTITLER_API_KEY": api_key,
                "LIBRARY_DIR": str(library),
                "SHOTS_DIR": str(shots),
                "CHROMIUM": CHROMIUM,
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.stop(signal.SIGTERM)
    output = proc.stdout + proc.stderr
    print(output)  # the steps, the statuses and progress seen (pytest -s shows them)
    daemon_log = server.log()
    assert proc.returncode == 0, f"ui.spec.mjs failed:\n{output}\n--- daemon log ---\n{daemon_log}"
    names = sorted(p.name for p in shots.glob("*.png"))
    for page in (
        "setup-choose",
        "setup-library",
        "setup-rule",
        "setup-workers",
        "setup-schedule",
        "workers",
        "rules-editor-preview",
        "rules",
        "scanner",
        "queue",
        "queue-job-detail",
        "dashboard",
        "settings-error",
        "settings",
        "setup-bazarr",
        "phone-dashboard",
        "light-dashboard",
    ):
        assert any(n.endswith(f"-{page}.png") for n in names), f"no screenshot of {page}: {names}"
    assert (library / "Movies" / "news.eng.srt").is_file() or list(
        (library / "Movies").glob("news.*.srt")
    ), "the completed job wrote no subtitle"
