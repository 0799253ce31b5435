"""The wizard's Finish resizes the running worker pool (real worker processes), not only the
saved setting."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from subtitler.daemon import Daemon

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
