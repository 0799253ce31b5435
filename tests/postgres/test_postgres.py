"""The daemon on a real PostgreSQL server: migrations, the dedup index, and concurrent claimers
(threads and processes, as workers of several nodes would be) that never share a job."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from subtitler.api import create_app
from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.db.models import Job, utcnow
from subtitler.jobs.claim import claim_statement

JOBS = 200


@pytest.fixture
async def pg_daemon(pg_url: str, tmp_path: Path) -> AsyncIterator[Daemon]:
    daemon = Daemon(
        Config(data_dir=tmp_path / "data", database_url=pg_url, start_workers=False,
               node_id="node-a")
    )  # fmt: skip
    await daemon.start()
    async with daemon.db.write() as session:
        await session.execute(delete(Job))
    try:
        yield daemon
    finally:
        await daemon.stop()


async def test_jobs_api_on_postgres(pg_daemon: Daemon, tmp_path: Path) -> None:
    media = tmp_path / "Show.mkv"
    media.write_bytes(b"x")
    transport = httpx.ASGITransport(app=create_app(pg_daemon), client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        body = {"file_path": str(media), "target_lang": "ja"}
        first = await client.post("/api/jobs", json=body)
        assert first.status_code == 201, first.text
        again = await client.post("/api/jobs", json={**body, "target_lang": "jpn"})
        assert again.status_code == 409 and first.json()["id"] in again.json()["detail"]
        stats = (await client.get("/api/jobs/stats")).json()
        assert stats["queued"] == 1 and stats["total_jobs"] == 1
        listing = (await client.get("/api/jobs", params={"page_size": 10})).json()
        assert listing["total"] == 1 and listing["jobs"][0]["target_lang"] == "jpn"
    claimed = await pg_daemon.queue.claim(worker_id="worker-cpu-0")
    assert claimed is not None and claimed.node_id == "node-a"
    requeued, failed = await pg_daemon.queue.recover_orphans()
    assert (requeued, failed) == (1, 0)


async def _claim_all(url: str, worker_id: str) -> list[str]:
    engine = create_async_engine(url)
    got: list[str] = []
    try:
        while True:
            async with engine.begin() as conn:
                stmt = claim_statement(worker_id=worker_id, node_id="n", now=utcnow())
                row = (await conn.execute(stmt)).first()
            if row is None:
                return got
            got.append(row.id)
    finally:
        await engine.dispose()


def _process_entry(url: str, worker_id: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(asyncio.run(_claim_all(url, worker_id)))


async def test_concurrent_claimers_never_share_a_job(pg_daemon: Daemon, pg_url: str) -> None:
    async with pg_daemon.db.write() as session:
        await session.execute(
            insert(Job),
            [{"id": f"pg{n:04d}", "file_path": f"/m/{n}.mkv", "file_name": f"{n}.mkv",
              "priority": n % 4, "options": {}} for n in range(JOBS)],
        )  # fmt: skip
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_process_entry, args=(pg_url, f"p{i}", out)) for i in range(3)]
    for proc in procs:
        proc.start()
    in_loop = await asyncio.gather(*(_claim_all(pg_url, f"t{i}") for i in range(5)))
    from_procs = [await asyncio.to_thread(out.get, True, 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    flat = [job_id for batch in (*in_loop, *from_procs) for job_id in batch]
    assert [j for j, c in Counter(flat).items() if c > 1] == []
    assert len(flat) == JOBS
    async with pg_daemon.db.read() as session:
        statuses = Counter((await session.scalars(select(Job.status))).all())
    assert statuses == {"processing": JOBS}
    assert sum(1 for batch in (*in_loop, *from_procs) if batch) > 1
