"""Cluster nodes in one process on a real PostgreSQL server: locality in the claim, leases
reaped by a live node, one holder per duty with takeover, and events across nodes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from subtitler.cluster import leases
from subtitler.cluster.worker_node import WorkerNode
from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.db import Database
from subtitler.db.migrate import migrate
from subtitler.db.models import Job, utcnow
from subtitler.db.models_cluster import Node
from subtitler.events import EventBus
from subtitler.settings import SettingsService
from tests.waiting import holds_for, wait_until

LEASE = 3


async def wait_for(probe: Callable[[], Awaitable[Any]], *, timeout: float, what: str) -> Any:
    return await wait_until(probe, timeout=timeout, what=what)


@pytest.fixture
async def cluster_db(pg_url: str) -> str:
    """A migrated database with no jobs and no nodes, and a short lease."""
    db = Database(pg_url)
    await migrate(db, sqlite_file=None)
    settings = SettingsService(db, EventBus())
    await settings.init_defaults()
    await settings.bulk_update({"cluster_lease_seconds": LEASE, "scanner_schedule_enabled": True})
    async with db.write() as session:
        await session.execute(delete(Job))
        await session.execute(delete(Node))
    await db.dispose()
    return pg_url


@pytest.fixture
async def make_node(
    cluster_db: str, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Daemon]]]:
    started: list[Daemon] = []

    async def make(node_id: str, *, worker: bool = False, mappings: str = "") -> Daemon:
        config = Config(data_dir=tmp_path / node_id, database_url=cluster_db, node_id=node_id,
                        start_workers=False, path_mappings=mappings)  # fmt: skip
        node: Daemon = WorkerNode(config) if worker else Daemon(config)
        await node.start()
        if isinstance(node, WorkerNode):
            await wait_for(lambda: _true(node.ready), timeout=60, what="worker node ready")
        started.append(node)
        return node

    yield make
    for node in reversed(started):  # each stop is bounded (Daemon.stop); this is a backstop
        with contextlib.suppress(Exception):
            await asyncio.wait_for(node.stop(), 30)


async def _true(value: bool) -> bool:
    return value


async def _add_job(node: Daemon, path: str) -> Job:
    return await node.queue.enqueue(file_path=path, file_name=Path(path).name, target_lang="en")


async def test_a_node_claims_only_files_its_mappings_see(make_node: Any) -> None:
    full = await make_node("nas")
    gpu = await make_node("gpu", worker=True, mappings="/media=/mnt/nas/media")
    other = await _add_job(full, "/downloads/x.mkv")
    mine = await _add_job(full, "/media/tv/a.mkv")
    near = await _add_job(full, "/media2/b.mkv")  # a prefix by text, not by folder
    claimed = await gpu.queue.claim(worker_id="worker-gpu-0")
    assert claimed is not None and claimed.id == mine.id
    assert claimed.node_id == "gpu" and claimed.lease_expires_at is not None
    assert await gpu.queue.claim(worker_id="worker-gpu-0") is None
    got = {(await full.queue.claim(worker_id="w")).id for _ in range(2)}  # type: ignore[union-attr]
    assert got == {other.id, near.id}


async def test_an_upload_is_claimed_only_by_the_node_that_spooled_it(make_node: Any) -> None:
    a = await make_node("node-a")
    b = await make_node("node-b", worker=True)
    job = await a.queue.enqueue(file_path="asr://node-a/k", file_name="upload.wav",
                                job_type="asr", pinned_node="node-a")  # fmt: skip
    assert await b.queue.claim(worker_id="worker-cpu-0") is None
    claimed = await a.queue.claim(worker_id="worker-cpu-0")
    assert claimed is not None and claimed.id == job.id


async def test_a_dead_nodes_job_is_requeued_when_its_lease_runs_out(make_node: Any) -> None:
    a = await make_node("node-a")
    b = await make_node("node-b", worker=True)
    job = await _add_job(a, "/media/film.mkv")
    started = time.monotonic()  # no lease of node b can run out before started + LEASE
    claimed = await b.queue.claim(worker_id="worker-cpu-0")
    assert claimed is not None and claimed.id == job.id
    upload = await b.queue.enqueue(file_path="asr://node-b/k", file_name="upload.wav",
                                   job_type="asr", pinned_node="node-b")  # fmt: skip
    assert (await b.queue.claim(worker_id="worker-cpu-1")).id == upload.id  # type: ignore[union-attr]
    await b.cluster.stop()  # node b stops heartbeating (its lease duty goes too)
    first = await a.queue.get(job.id)
    assert first.status == "processing"

    async def requeued() -> Job | None:
        current = await a.queue.get(job.id)
        return current if current.status == "queued" else None

    again = await wait_for(requeued, timeout=LEASE * 10, what="the lease to be reaped")
    assert time.monotonic() - started >= LEASE * 0.9
    assert again.recovered_count == 1 and again.worker_id is None
    lost = await a.queue.get(upload.id)  # its audio and its client were on node b
    assert (lost.status, lost.error_code) == ("failed", "node_lost")
    assert (await a.queue.claim(worker_id="worker-cpu-0")).id == job.id  # type: ignore[union-attr]
    # node b comes back late: its worker cannot finish a job that is no longer its
    assert await b.queue.complete(job.id, worker_id="worker-cpu-0") is None


async def test_a_live_nodes_lease_is_renewed(make_node: Any) -> None:
    a = await make_node("node-a")
    job = await _add_job(a, "/media/long.mkv")
    await a.queue.claim(worker_id="worker-cpu-0")

    async def still_running() -> bool:
        current = await a.queue.get(job.id)
        return current.status == "processing" and current.recovered_count == 0

    await holds_for(still_running, seconds=LEASE * 2, what="the renewed lease")


async def test_duties_have_one_holder_and_move_when_it_stops(make_node: Any) -> None:
    a = await make_node("node-a")
    await wait_for(lambda: _true(a.cluster.duties["scanner"].held), timeout=30, what="a duty")
    b = await make_node("node-b")
    w = await make_node("node-w", worker=True)
    await wait_for(lambda: _true(a.scanner.control.scheduler.running), timeout=30,
                   what="the scheduler on the duty's holder")  # fmt: skip
    await wait_for(lambda: _true(any(n.cluster.duties["leases"].held for n in (a, b, w))),
                   timeout=30, what="a holder of the lease duty")  # fmt: skip
    assert not b.cluster.duties["scanner"].held and not b.scanner.control.scheduler.running
    assert "scanner" not in w.cluster.duties  # a worker node never scans
    assert sum(n.cluster.duties["leases"].held for n in (a, b, w)) == 1
    await a.stop()
    await wait_for(lambda: _true(b.cluster.duties["scanner"].held), timeout=LEASE * 10,
                   what="the scanner duty to move")  # fmt: skip
    assert b.scanner.control.scheduler.running
    nodes = {n["node_id"]: n for n in await b.cluster.nodes()}
    assert set(nodes) == {"node-a", "node-b", "node-w"}
    assert nodes["node-w"]["role"] == "worker" and nodes["node-b"]["is_self"]


async def test_events_of_one_node_reach_the_others(make_node: Any) -> None:
    a = await make_node("node-a")
    b = await make_node("node-b", worker=True)
    await asyncio.wait_for(a.cluster.events.connected.wait(), 30)
    await asyncio.wait_for(b.cluster.events.connected.wait(), 30)
    sub = a.bus.subscribe({"job_created", "job_updated", "worker_added"})
    job = await _add_job(b, "/media/e.mkv")
    event = await sub.get(wait_seconds=30)
    assert event is not None and event.type == "job_created"
    assert event.data["id"] == job.id and event.data["origin_node"] == "node-b"
    await b.queue.claim(worker_id="worker-cpu-0")
    event = await sub.get(wait_seconds=30)
    assert event is not None and event.data["status"] == "processing"
    async with a.db.read() as session:
        assert (await session.scalar(select(Job.node_id).where(Job.id == job.id))) == "node-b"
    sub.close()


async def test_a_setting_changed_on_one_node_is_read_by_the_others(make_node: Any) -> None:
    a = await make_node("node-a")
    b = await make_node("node-b", worker=True)
    await asyncio.wait_for(a.cluster.events.connected.wait(), 30)
    await asyncio.wait_for(b.cluster.events.connected.wait(), 30)
    fast = {"model": "tiny.en", "compute_type": "int8", "beam_size": 2, "batch_size": 4}
    await a.settings.bulk_update({"preset_fast": fast})

    async def seen() -> bool:
        return bool(b.settings.get("preset_fast") == fast)

    await wait_for(seen, timeout=30, what="node b to re-read the setting")


async def test_the_reaper_takes_all_of_a_dead_nodes_jobs_in_one_go(make_node: Any) -> None:
    """One lapsed lease says the node is gone: its upload (claimed later, its own lease not yet
    out) fails in the same transaction that requeues its other job; another node's job stays."""
    a = await make_node("node-a")
    await a.cluster.stop()  # no heartbeat here: the test calls the reaper itself
    job = await _add_job(a, "/media/one.mkv")
    live = await _add_job(a, "/media/two.mkv")
    upload = await a.queue.enqueue(file_path="asr://node-b/k", file_name="upload.wav",
                                   job_type="asr", pinned_node="node-b")  # fmt: skip
    now = utcnow()
    async with a.db.write() as session:
        for job_id, node, lease in ((job.id, "node-b", -1), (upload.id, "node-b", +60),
                                    (live.id, "node-c", +60)):  # fmt: skip
            await session.execute(
                update(Job).where(Job.id == job_id).values(
                    status="processing", node_id=node, worker_id="worker-cpu-0",
                    lease_expires_at=now + timedelta(seconds=lease))
            )  # fmt: skip
    assert await leases.reap(db=a.db, bus=a.bus, now=now) == 2
    got = {j: await a.queue.get(j) for j in (job.id, upload.id, live.id)}
    assert (got[job.id].status, got[job.id].recovered_count) == ("queued", 1)
    assert (got[upload.id].status, got[upload.id].error_code) == ("failed", "node_lost")
    assert got[live.id].status == "processing" and got[live.id].recovered_count == 0
