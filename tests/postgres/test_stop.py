"""Every stop is bounded, even when PostgreSQL does not answer: the server is frozen (SIGSTOP of
the postmaster and its backends: connections open, nothing answers), the daemon is stopped, and
it returns within its deadline with the stuck part named in the log; the same with a job
running in a real worker, during start, and for `subtitler serve` processes and SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from subtitler.api import create_app
from subtitler.config import Config
from subtitler.daemon import Daemon, DaemonStopped
from subtitler.db import Database
from subtitler.db.models import Job
from subtitler.system.stopping import STOP_TOTAL
from tests.postgres.conftest import frozen_postgres
from tests.postgres.nodes import TINY_FAST, _prepare, launch, prepare_database, wait_healthy
from tests.speechgen import ENGLISH, MediaFactory, Track
from tests.waiting import wait_until, wait_until_sync

LEASE = 3
SLACK = 2.0  # a loaded machine's scheduling, on top of the deadline itself
SIGTERM_EXIT = 15.0  # the acceptance bound for a `subtitler serve` process


def _long_video(tmp_path: Path, name: str = "Long Film.mkv") -> Path:
    media = MediaFactory(tmp_path / "gen")
    library = tmp_path / "library"
    library.mkdir(exist_ok=True)
    wav = media.concat([media.speech(ENGLISH)] * 8)
    target = library / name
    clip = media.mkv([Track(wav, language="eng", default=True)])
    # 20 minutes: still transcribing at the stop even on a quiet machine (tiny.en ~30x realtime)
    shutil.copyfile(media.looped(clip, seconds=1200), target)
    return target


def _config(tmp_path: Path, pg_url: str, node_id: str, *, workers: bool = False) -> Config:
    return Config(data_dir=tmp_path / node_id, database_url=pg_url, node_id=node_id,
                  start_workers=workers, allowed_hosts="testserver")  # fmt: skip


@pytest.fixture
async def stop_daemons() -> AsyncIterator[list[Daemon]]:
    """Whatever a test leaves running is stopped (bounded) with the server thawed."""
    daemons: list[Daemon] = []
    yield daemons
    for daemon in daemons:
        await asyncio.wait_for(daemon.stop(), STOP_TOTAL + 10)


async def _timed_stop(daemon: Daemon) -> float:
    started = time.monotonic()
    await daemon.stop()
    return time.monotonic() - started


async def test_a_daemon_stops_in_time_while_postgres_is_frozen(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, stop_daemons: list[Daemon]
) -> None:
    await _prepare(pg_url, {"cluster_lease_seconds": LEASE})
    daemon = Daemon(_config(tmp_path, pg_url, "frozen-idle"))
    stop_daemons.append(daemon)
    await daemon.start()
    assert daemon.cluster is not None
    cluster = daemon.cluster
    await wait_until(lambda: cluster.duties["leases"].held, timeout=30, what="the lease duty")
    caplog.set_level(logging.INFO)
    with frozen_postgres(pg_url):
        await asyncio.sleep(LEASE / 2)  # long enough for a heartbeat to be stuck in a query
        elapsed = await _timed_stop(daemon)
        await daemon.stop()  # twice: nothing left to do
    assert elapsed <= STOP_TOTAL + SLACK, elapsed
    assert not daemon.started
    late = [r.getMessage() for r in caplog.records if "did not stop within" in r.getMessage()]
    assert late, caplog.text  # the stuck part is named
    assert any("database connections" in m or "cluster" in m for m in late), late
    # the server thawed, a new daemon on the same data folder starts: the lock was released
    again = Daemon(_config(tmp_path, pg_url, "frozen-idle"))
    stop_daemons.append(again)
    await asyncio.wait_for(again.start(), 60)
    assert again.started


async def test_a_stop_during_start_while_postgres_is_frozen(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, stop_daemons: list[Daemon]
) -> None:
    await _prepare(pg_url, {"cluster_lease_seconds": LEASE})
    daemon = Daemon(_config(tmp_path, pg_url, "frozen-start"))
    stop_daemons.append(daemon)
    caplog.set_level(logging.INFO)
    with frozen_postgres(pg_url):
        starting = asyncio.create_task(daemon.start())
        await wait_until(lambda: daemon._starting is not None, timeout=10, what="start to begin")
        await asyncio.sleep(0.5)  # start now waits on the frozen server
        elapsed = await _timed_stop(daemon)
        with pytest.raises(DaemonStopped):
            await asyncio.wait_for(starting, 10)
    assert elapsed <= STOP_TOTAL + SLACK, elapsed
    assert not daemon.started and not daemon.lock.held
    # thawed, the same data folder starts again: the stop released what the start had taken
    again = Daemon(_config(tmp_path, pg_url, "frozen-start"))
    stop_daemons.append(again)
    await asyncio.wait_for(again.start(), 60)
    assert again.started


@pytest.mark.slow
async def test_a_daemon_with_a_job_running_stops_in_time_while_postgres_is_frozen(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, stop_daemons: list[Daemon]
) -> None:
    video = _long_video(tmp_path)
    await _prepare(pg_url, {"cluster_lease_seconds": LEASE, "worker_cpu_count": 1,
                            "worker_gpu_count": 0, "preset_fast": TINY_FAST})  # fmt: skip
    daemon = Daemon(_config(tmp_path, pg_url, "frozen-job", workers=True))
    stop_daemons.append(daemon)
    await daemon.start()
    transport = httpx.ASGITransport(app=create_app(daemon), client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        resp = await http.post("/api/jobs", json={"file_path": str(video), "target_lang": "eng",
                                                  "quality_preset": "fast"})  # fmt: skip
        assert resp.status_code == 201, resp.text
        job_id = resp.json()["id"]

        async def transcribing() -> bool:
            job = (await http.get(f"/api/jobs/{job_id}")).json()
            return bool(job["status"] == "processing" and job.get("current_stage"))

        await wait_until(transcribing, timeout=300, what="the job to run in the worker")
    workers = list(daemon.pool.workers.values())
    caplog.set_level(logging.INFO)
    with frozen_postgres(pg_url):
        elapsed = await _timed_stop(daemon)
    assert elapsed <= STOP_TOTAL + SLACK, elapsed
    assert "did not stop within" in caplog.text, caplog.text
    assert "worker pool" in caplog.text or "database connections" in caplog.text
    for worker in workers:  # no worker process outlives the stop (killed: gone or a zombie)
        proc: Any = getattr(worker, "_proc", None)
        if proc is not None:
            wait_until_sync(lambda pid=proc.pid: _dead(pid), timeout=30, what="the worker to die")


@pytest.mark.slow
def test_serve_exits_within_15s_of_sigterm_with_a_job_running_and_with_postgres_frozen(
    pg_url: str, tmp_path: Path
) -> None:
    video = _long_video(tmp_path)
    prepare_database(pg_url, cluster_lease_seconds=LEASE, worker_cpu_count=1,
                     worker_gpu_count=0, preset_fast=TINY_FAST)  # fmt: skip
    job_id = ""
    for node_id, freeze in (("serve-a", False), ("serve-b", True)):
        node = launch("serve", tmp_path, node_id, db_url=pg_url)
        try:
            wait_healthy(node, timeout=300)
            if not job_id:
                resp = httpx.post(
                    f"{node.url}/api/jobs",
                    json={"file_path": str(video), "target_lang": "eng", "quality_preset": "fast"},
                    timeout=30,
                )
                assert resp.status_code == 201, resp.text  # fmt: skip
                job_id = resp.json()["id"]

            def running(url: str = node.url, me: str = node_id, job_id: str = job_id) -> bool:
                job = httpx.get(f"{url}/api/jobs/{job_id}", timeout=10).json()
                return bool(job["status"] == "processing" and job.get("node_id") == me)

            wait_until_sync(running, timeout=300, what=f"the job to run on {node_id}")
            if freeze:
                with frozen_postgres(pg_url):
                    elapsed = _sigterm(node.proc)
            else:
                elapsed = _sigterm(node.proc)
            log = node.log()
            assert node.proc.returncode is not None, log
            assert elapsed <= SIGTERM_EXIT, f"{node_id} took {elapsed:.1f} s:\n{log[-3000:]}"
            if freeze:
                assert "did not stop within" in log, log[-3000:]
            else:  # its job went back to the queue at the stop, for the next node to take
                assert _read_job(pg_url, job_id).status == "queued", log[-3000:]
        finally:
            node.kill()


def test_serve_exits_within_15s_of_sigterm_while_its_start_waits_on_frozen_postgres(
    pg_url: str, tmp_path: Path
) -> None:
    prepare_database(pg_url, cluster_lease_seconds=LEASE)
    with frozen_postgres(pg_url):
        node = launch("serve", tmp_path, "serve-frozen-start", db_url=pg_url)
        try:
            wait_until_sync(lambda: "Waiting for application startup" in node.log()
                            or node.proc.poll() is not None, timeout=120,
                            what="uvicorn to start the daemon")  # fmt: skip
            time.sleep(1.0)  # the start now waits on the frozen server
            assert node.proc.poll() is None, node.log()
            elapsed = _sigterm(node.proc)
            log = node.log()
        finally:
            node.kill()
    assert node.proc.returncode is not None
    assert elapsed <= SIGTERM_EXIT, f"took {elapsed:.1f} s:\n{log[-3000:]}"
    assert "subtitler stopped" in log, log[-3000:]


def _dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _sigterm(proc: Any) -> float:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=SIGTERM_EXIT + 15)
    return time.monotonic() - started


def _read_job(pg_url: str, job_id: str) -> Job:
    async def read() -> Job:
        db = Database(pg_url)
        try:
            async with db.read() as session:
                job = await session.get(Job, job_id)
                assert job is not None
                return job
        finally:
            await db.dispose()

    return asyncio.run(read())
