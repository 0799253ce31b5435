"""The daemon process stays light: a real `subtitler serve` (workers started, the UI's usual
requests answered, files probed by a scan, an analysis and a translated job) has none of the
workers' heavy packages in its sys.modules: its probes run in the probe processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from subtitler.media.languages import WHISPER_LANGUAGES
from tests.conftest import free_port
from tests.mediagen import Audio, Spec, make_media

HEAVY = ("faster_whisper", "ctranslate2", "numpy", "av", "onnxruntime", "torch", "tokenizers")
UI_REQUESTS = (
    "/api/status", "/api/workers", "/api/workers/stats", "/api/jobs?page=1", "/api/jobs/stats",
    "/api/settings", "/api/capabilities", "/api/library?page=1", "/api/system/warnings",
    "/api/system/about", "/api/system/resources", "/api/scanner/status",
    "/api/system/setting-specs", "/api/rules", "/api/tokens",
)  # fmt: skip
# `subtitler serve` itself, with a SIGUSR1 handler that writes the process's sys.modules.
WRAPPER = """
import json, os, signal, sys

def dump(*_):
    with open(os.environ["MODULES_TO"] + ".tmp", "w") as out:
        json.dump(sorted(sys.modules), out)
    os.replace(os.environ["MODULES_TO"] + ".tmp", os.environ["MODULES_TO"])

if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, dump)
    from subtitler.cli import app
    app(sys.argv[1:], prog_name="subtitler")
"""


def probed_through_the_api(url: str, tmp_path: Path) -> None:
    """A scan, an analysis and a job with a translation target: each probes a file."""
    library = tmp_path / "library"
    films = [
        make_media(library / f"Film {i}.mkv", Spec(audio=(Audio(language="eng"),)))
        for i in range(3)
    ]
    settings = {"settings": {"library_paths": [str(library)]}}
    assert httpx.post(f"{url}/api/settings/bulk-update", json=settings, timeout=30).is_success
    scan = httpx.post(f"{url}/api/scanner/scan", json={}, timeout=120).json()
    assert scan["probed_files"] == 3, scan
    analysis = httpx.post(
        f"{url}/api/scanner/analyze", params={"file_path": str(films[0])}, timeout=60
    )
    assert analysis.json()["audio_tracks"][0]["language"] == "eng", analysis.text
    job = {"file_path": str(films[1]), "source_lang": "eng", "target_lang": "spa"}
    created = httpx.post(f"{url}/api/jobs", json=job, timeout=60)
    assert created.status_code in (200, 201), created.text


def test_whisper_languages_are_faster_whispers() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert tuple(_LANGUAGE_CODES) == WHISPER_LANGUAGES


@pytest.mark.slow
def test_the_daemon_imports_nothing_heavy(tmp_path: Path) -> None:
    script = tmp_path / "serve_and_report.py"
    script.write_text(WRAPPER)
    modules_file = tmp_path / "modules.json"
    port = free_port()
    env = {
        **os.environ,
        "MODULES_TO": str(modules_file),
        "SUBTITLER_CPU_WORKERS": "1",
        "SUBTITLER_ALLOWED_PATHS": str(tmp_path),
    }
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, str(script), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(tmp_path / "data")],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        workers: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                workers = httpx.get(f"{url}/api/workers", timeout=2).json()
            except httpx.HTTPError:
                workers = []
            if workers:
                break
            time.sleep(0.2)
        # launched asleep (worker_idle_stop_seconds is on by default): no worker process yet
        assert workers and all(w["status"] == "sleeping" and w["pid"] is None for w in workers)
        for path in UI_REQUESTS:
            assert httpx.get(url + path, timeout=30).status_code < 500, path
        probed_through_the_api(url, tmp_path)
        deadline = time.monotonic() + 90  # the queued job starts the worker's process
        while not any(w["pid"] for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = httpx.get(f"{url}/api/workers", timeout=2).json()
        assert any(w["pid"] for w in workers), workers
        proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not modules_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        modules = json.loads(modules_file.read_text())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert "subtitler.workers.pool" in modules and "uvicorn" in modules  # it is the daemon
    heavy = sorted({m.split(".")[0] for m in modules} & set(HEAVY))
    assert heavy == [], f"the daemon imported {heavy}"
