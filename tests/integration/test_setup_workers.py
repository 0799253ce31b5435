"""The wizard's Finish resizes the running worker pool (real worker processes), not only the
saved setting."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from subtitler.api import create_app
from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.errors import BadRequest

pytestmark = pytest.mark.slow


async def _cpu_workers(client: httpx.AsyncClient) -> int:
    workers = (await client.get("/api/workers")).json()
    return sum(1 for w in workers if w["worker_type"] == "cpu")


async def test_finish_applies_the_worker_count_to_the_running_pool(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    assert (await client.post("/api/workers", json={"worker_type": "cpu"})).status_code == 201
    assert daemon.pool.is_running
    body = {
        "library_paths": [str(library)],
        "worker_config": {"count": 2, "type": "cpu"},
        "first_scan": False,
    }
    assert (await client.post("/api/setup/standalone", json=body)).status_code == 200
    assert await _cpu_workers(client) == 2
    assert daemon.settings.get("worker_cpu_count") == 2
    body["worker_config"] = {"count": 1, "type": "cpu"}
    assert (await client.post("/api/setup/standalone", json=body)).status_code == 200
    assert await _cpu_workers(client) == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the one left comes up
        statuses = [w["status"] for w in (await client.get("/api/workers")).json()]
        if statuses == ["idle"]:
            break
        await asyncio.sleep(0.2)
    assert statuses == ["idle"]


# The body the wizard sends when every step keeps its default (frontend/src/views/SetupView.vue).
def wizard_defaults(library: Path) -> dict[str, object]:
    return {
        "library_paths": [str(library)],
        "scan_rules": [
            {
                "name": "Subtitles for everything",
                "enabled": True,
                "priority": 0,
                "audio_language_is": None,
                "missing_external_subtitle_lang": "eng",
                "target_language": "eng",
                "action_type": "transcribe",
                "quality_preset": "fast",
                "job_priority": 0,
            }
        ],
        "worker_config": {"count": 1, "type": "cpu"},
        "scanner_config": {"interval_minutes": 360, "watch": True},
        "first_scan": True,
    }


@pytest.fixture
def running_config(config: Config) -> Config:
    """A daemon whose pool started from the default (automatic, -1) worker counts."""
    return config.model_copy(update={"start_workers": True})


async def test_finish_with_every_default_on_a_running_automatic_pool(
    running_config: Config, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    daemon = Daemon(running_config)
    await daemon.start()
    try:
        assert daemon.settings.get("worker_gpu_count") == -1  # automatic, as on a fresh install
        assert daemon.pool.is_running
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(daemon), client=("127.0.0.1", 50000)),
            base_url="http://testserver",
        )
        async with client:
            resp = await client.post("/api/setup/standalone", json=wizard_defaults(library))
            assert resp.status_code == 200, resp.text
            assert resp.json()["first_scan_started"] is True
            assert await _cpu_workers(client) == 1
            assert daemon.setup.first_scan is not None
            result = await asyncio.wait_for(daemon.setup.first_scan, 30)
            assert result is not None and result.trigger == "setup"
            assert daemon.settings.get("setup_completed") is True
            assert daemon.settings.get("scanner_interval_minutes") == 360
            rules = (await client.get("/api/scan-rules")).json()
            assert [r["name"] for r in rules] == ["Subtitles for everything"]
    finally:
        await daemon.stop()


async def test_a_refused_worker_count_applies_nothing(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    """Validation comes before any write: too many workers -> 400, and no rule, no setting,
    no schedule, no worker change, setup still open."""
    library = tmp_path / "library"
    library.mkdir()
    assert (await client.post("/api/workers", json={"worker_type": "cpu"})).status_code == 201
    body = wizard_defaults(library) | {"worker_config": {"count": 64, "type": "cpu"}}
    resp = await client.post("/api/setup/standalone", json=body)
    assert resp.status_code == 400 and resp.json()["code"] == "too_many_workers", resp.text
    assert (await client.get("/api/scan-rules")).json() == []
    assert daemon.settings.get("setup_completed") is False
    assert daemon.settings.get("library_paths") == []
    assert daemon.settings.get("scanner_schedule_enabled") is False
    assert await _cpu_workers(client) == 1
    assert daemon.setup.first_scan is None


async def test_a_failure_while_applying_puts_everything_back(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool refusing at the last step (after rules and settings were written) rolls the
    rules and settings back: the wizard is never half-applied."""
    library = tmp_path / "library"
    library.mkdir()
    assert (await client.post("/api/workers", json={"worker_type": "cpu"})).status_code == 201
    before = (await client.get("/api/scan-rules")).json()

    async def refuse(*, cpu: int, gpu: int) -> None:
        raise BadRequest("the pool refused", code="pool_refused")

    monkeypatch.setattr(daemon.pool, "start_pool", refuse)
    resp = await client.post("/api/setup/standalone", json=wizard_defaults(library))
    assert resp.status_code == 400 and resp.json()["code"] == "pool_refused"
    assert (await client.get("/api/scan-rules")).json() == before
    assert daemon.settings.get("setup_completed") is False
    assert daemon.settings.get("library_paths") == []
    assert daemon.settings.get("scanner_schedule_enabled") is False
    assert daemon.setup.first_scan is None
