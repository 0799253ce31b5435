"""Diarization failures are one sentence each (no stack trace, never a 500), and with
diarization off nothing imports torch. A fake Hugging Face hub on 127.0.0.1 answers 401/403."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from subtitler.settings import REGISTRY
from subtitler.workers.diarize import (
    DiarizationError,
    Diarizer,
    DiarizeRequest,
    capabilities,
    explain,
    installed,
)

PIPELINE = "pyannote/speaker-diarization-community-1"
SETTINGS = {key: spec.default for key, spec in REGISTRY.items()}


@pytest.fixture(autouse=True)
def hub_online(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests talk to a fake hub: online, whatever an earlier test in this process set
    (configure_hub sets HF_HUB_OFFLINE, and huggingface_hub reads it once, at import)."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


@contextmanager
def fake_hub(status: int, error_code: str | None = None) -> Iterator[str]:
    """A hub answering every request with `status` (and the hub's X-Error-Code header)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = b'{"error": "refused"}'
            self.send_response(status)
            if error_code:
                self.send_header("X-Error-Code", error_code)
                self.send_header("X-Error-Message", "Access to this model is restricted.")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def hub_failure(endpoint: str, tmp: Path, token: str | None) -> BaseException:
    from huggingface_hub import hf_hub_download

    try:
        hf_hub_download(PIPELINE, "config.yaml", endpoint=endpoint, token=token,
                        cache_dir=tmp, etag_timeout=2)  # fmt: skip
    except Exception as exc:  # what pyannote's download_from_hf_hub re-raises
        return exc
    raise AssertionError("the fake hub served a file")


def test_gated_model_names_the_pages_to_accept(tmp_path: Path) -> None:
    with fake_hub(403, "GatedRepo") as hub:
        error = explain(hub_failure(hub, tmp_path, "hf_x"), pipeline=PIPELINE, token="hf_x")
    assert error.code == "diarization_terms"
    assert f"https://huggingface.co/{PIPELINE}" in error.detail
    assert "\n" not in error.detail and "Traceback" not in error.detail
    three = explain(hub_failure_403(tmp_path), pipeline="pyannote/speaker-diarization-3.1",
                    token="hf_x")  # fmt: skip
    assert "https://huggingface.co/pyannote/segmentation-3.0" in three.detail


def hub_failure_403(tmp: Path) -> BaseException:
    with fake_hub(403, "GatedRepo") as hub:
        return hub_failure(hub, tmp, "hf_x")


def test_refused_token_and_no_token(tmp_path: Path) -> None:
    with fake_hub(401) as hub:
        exc = hub_failure(hub, tmp_path, "hf_bad")
    refused = explain(exc, pipeline=PIPELINE, token="hf_bad")
    assert refused.code == "diarization_token_refused"
    assert "huggingface_token" in refused.detail
    missing = explain(exc, pipeline=PIPELINE, token="")
    assert missing.code == "diarization_no_token"
    # no token and a hub name: refused before anything is imported or downloaded
    with pytest.raises(DiarizationError) as caught:
        Diarizer().load({**SETTINGS, "huggingface_token": ""})
    assert caught.value.code == "diarization_no_token"
    assert f"https://huggingface.co/{PIPELINE}" in caught.value.detail


def test_unreachable_hub(tmp_path: Path) -> None:
    with fake_hub(200) as hub:
        pass  # the server is gone: its port refuses connections
    error = explain(hub_failure(hub, tmp_path, "hf_x"), pipeline=PIPELINE, token="hf_x")
    assert error.code == "diarization_hub_unreachable"
    assert "local folder" in error.detail


def test_extra_not_installed_is_one_sentence() -> None:
    error = explain(ModuleNotFoundError("No module named 'pyannote'"), pipeline=PIPELINE,
                    token="")  # fmt: skip
    assert error.code == "diarization_not_installed"
    assert "pip install 'subtitler[diarization]'" in error.detail


def test_job_options_over_the_setting() -> None:
    assert not DiarizeRequest.of(SETTINGS, {}).enabled
    assert DiarizeRequest.of({**SETTINGS, "diarization_enabled": True}, {}).enabled
    job = {"options": {"diarize": True, "min_speakers": 2, "max_speakers": "3"}}
    request = DiarizeRequest.of(SETTINGS, job)
    assert (request.enabled, request.min_speakers, request.max_speakers) == (True, 2, 3)
    off = {"options": {"diarize": False}}
    assert not DiarizeRequest.of({**SETTINGS, "diarization_enabled": True}, off).enabled


def test_capabilities_import_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "pipe"
    folder.mkdir()
    (folder / "config.yaml").write_text("pipeline: {}\n")
    report = capabilities({**SETTINGS, "diarization_pipeline": str(folder)})
    assert report["engine"] == "pyannote.audio" and report["local"] is True
    assert report["installed"] is installed() and report["ready"] is installed()
    assert capabilities(SETTINGS)["ready"] is False  # no token for the hub's pipeline


def test_with_diarization_off_torch_is_never_imported() -> None:
    code = (
        "import sys\n"
        "import subtitler.workers.pipeline, subtitler.workers.diarize, subtitler.api.app\n"
        "from subtitler.workers.diarize import capabilities, DiarizeRequest\n"
        "from subtitler.settings import REGISTRY\n"
        "s = {k: v.default for k, v in REGISTRY.items()}\n"
        "capabilities(s); assert not DiarizeRequest.of(s, {}).enabled\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'\n"
        "             or m.startswith(('pyannote.audio', 'lightning'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    assert out.stdout.strip() == "[]", out.stdout


def test_a_rule_action_asks_for_speakers() -> None:
    from subtitler.rules import evaluate
    from subtitler.scanner.planner import job_fields
    from tests.unit.test_rules_engine import media, rule

    speakers = rule("films with speakers", audio_language_is="eng")
    speakers = speakers.model_copy(
        update={"action": speakers.action.model_copy(update={"diarize": True})}
    )
    (job,) = evaluate([speakers], media("eng"))
    fields = job_fields(job, SETTINGS)
    assert fields["options"]["diarize"] is True
    assert DiarizeRequest.of(SETTINGS, fields).enabled
    (plain,) = evaluate([rule("plain", audio_language_is="eng")], media("eng"))
    assert "diarize" not in job_fields(plain, SETTINGS)["options"]
