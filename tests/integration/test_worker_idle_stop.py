"""Workers stop their process after `worker_idle_stop_seconds` without a job ("sleeping") and
start it again for the next queued job: real processes, real faster-whisper on the bundled model."""

from __future__ import annotations

import asyncio
import multiprocessing
from multiprocessing import resource_tracker
from pathlib import Path

import httpx
import psutil
import pytest

from subtitler.daemon import Daemon
from tests.integration.test_worker_pool import create_job, english_video, job_in, wait_for
from tests.speechgen import MediaFactory

pytestmark = pytest.mark.slow


async def _status(client: httpx.AsyncClient) -> dict[str, object]:
    return (await client.get("/api/workers/worker-cpu-0")).json()


async def test_an_idle_worker_stops_its_process_and_a_job_starts_it_again(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    await daemon.settings.bulk_update({"worker_idle_stop_seconds": 1})
    resp = await client.post("/api/workers", json={"worker_type": "cpu"})
    assert resp.status_code == 201, resp.text

    async def idle() -> dict[str, object] | None:
        worker = await _status(client)
        return worker if worker["status"] == "idle" else None

    first = await wait_for(idle, timeout=60, what="the worker to start")
    pid = first["pid"]
    assert isinstance(pid, int) and psutil.pid_exists(pid)

    async def sleeping() -> dict[str, object] | None:
        worker = await _status(client)
        return worker if worker["status"] == "sleeping" else None

    asleep = await wait_for(sleeping, timeout=30, what="the idle worker to stop its process")
    assert asleep["pid"] is None and asleep["error"] is None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    if not multiprocessing.active_children():  # no other test's child left in this process
        tracker = resource_tracker._resource_tracker
        assert getattr(tracker, "_fd", None) is None  # the tracker went with the last child
    stats = (await client.get("/api/workers/stats")).json()
    assert stats["sleeping_workers"] == 1 and stats["idle_workers"] == 0
    assert stats["total_workers"] == 1 and stats["is_running"] is True  # still takes jobs

    # A queued job starts the process again: not a crash, not a restart.
    library = tmp_path / "library"
    library.mkdir()
    video = english_video(MediaFactory(tmp_path / "media"), library, "Wake Up.mkv")
    job = await create_job(client, video)
    done = await wait_for(
        lambda: job_in(client, job["id"], "completed", "failed"), timeout=180, what="the job"
    )
    assert done["status"] == "completed", done.get("error")
    assert Path(done["output_path"]).is_file()
    worker = daemon.pool.get("worker-cpu-0")
    assert worker.last_start_seconds is not None and worker.last_start_seconds < 60
    assert not worker._restarts  # woken, not restarted after a crash
    after = await _status(client)
    assert after["jobs_completed"] == 1 and after["jobs_failed"] == 0
    # ... and once idle again it sleeps again.
    await wait_for(sleeping, timeout=30, what="the worker to sleep after its job")

    # Manual control keeps working on a sleeping worker.
    stopped = await client.post("/api/workers/pool/stop", params={"timeout": 5})
    assert stopped.status_code == 200
    assert (await client.get("/api/workers")).json() == []
    started = await client.post("/api/workers/pool/start", params={"cpu_workers": 1})
    assert started.status_code == 200
    await wait_for(idle, timeout=60, what="the worker started by hand")


async def test_zero_keeps_the_process_running(client: httpx.AsyncClient, daemon: Daemon) -> None:
    await daemon.settings.bulk_update({"worker_idle_stop_seconds": 0})
    assert (await client.post("/api/workers", json={"worker_type": "cpu"})).status_code == 201

    async def idle() -> dict[str, object] | None:
        worker = await _status(client)
        return worker if worker["status"] == "idle" else None

    first = await wait_for(idle, timeout=60, what="the worker to start")
    worker = daemon.pool.get("worker-cpu-0")
    worker._idle_since -= 3600  # an hour without a job
    await asyncio.sleep(2.5)  # more than one claim poll
    now = await _status(client)
    assert (now["status"], now["pid"]) == ("idle", first["pid"])


async def test_the_daemons_launch_starts_its_workers_asleep(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    """With an idle stop set (the default, 300 s), the daemon's launch starts no worker process:
    the first job does. With 0, the launch starts them at once, as before."""
    assert daemon.settings.get("worker_idle_stop_seconds") == 300  # the default
    daemon.pool.count_overrides = (1, 0)  # SUBTITLER_CPU_WORKERS=1
    await daemon.pool.start()  # what the daemon's start does when start_workers is on
    launched = await _status(client)
    assert (launched["status"], launched["pid"]) == ("sleeping", None), launched
    await asyncio.sleep(2.5)  # more than one claim poll: it stays asleep without work
    assert (await _status(client))["pid"] is None
    assert not [p for p in multiprocessing.active_children() if p.name == "worker-cpu-0"]

    library = tmp_path / "library"
    library.mkdir()
    video = english_video(MediaFactory(tmp_path / "media"), library, "First Job.mkv")
    job = await create_job(client, video)
    done = await wait_for(
        lambda: job_in(client, job["id"], "completed", "failed"), timeout=180, what="the job"
    )
    assert done["status"] == "completed", done.get("error")
    worker = daemon.pool.get("worker-cpu-0")
    assert worker.last_start_seconds is not None and not worker._restarts
    assert (await _status(client))["jobs_completed"] == 1

    await daemon.pool.stop_pool(timeout=5)
    await daemon.settings.bulk_update({"worker_idle_stop_seconds": 0})
    await daemon.pool.start()

    async def running() -> dict[str, object] | None:
        worker = await _status(client)
        return worker if worker["status"] == "idle" and worker["pid"] else None

    await wait_for(running, timeout=60, what="the worker launched awake")
