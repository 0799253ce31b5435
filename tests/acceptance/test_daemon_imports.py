"""The daemon process stays light: a real `subtitler serve` (workers started, the UI's usual
requests answered) has none of the workers' heavy packages in its sys.modules."""

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
            if workers and workers[0]["status"] == "idle":
                break
            time.sleep(0.2)
        assert workers and workers[0]["status"] == "idle" and workers[0]["pid"]
        for path in UI_REQUESTS:
            assert httpx.get(url + path, timeout=30).status_code < 500, path
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
