"""The cluster on a throwaway PostgreSQL server; prints one JSON object.

    .venv/bin/python bench/cluster.py [--claim-jobs 5000] [--claimers 8] [--wake-trials 8]
                                      [--jobs 6] [--skip-nodes]

1. `claims_per_second`: `--claimers` concurrent connections running the real claim statement
   (`UPDATE ... FOR UPDATE SKIP LOCKED ... RETURNING`) until `--claim-jobs` queued jobs are gone:
   the ceiling of jobs one database hands out, i.e. how many nodes it can feed.
2. `claim_to_start`: a job queued by one node and claimed by another, woken by LISTEN/NOTIFY
   (the real EventBridge) versus found by the idle poll every CLAIM_POLL seconds (median ms).
3. `nodes`: `--jobs` short tiny.en jobs completed by one `subtitler worker` node, then by two
   (each one CPU worker), on this machine: jobs per minute. On one machine two nodes share its
   cores, so this shows the overhead of the cluster path, not the speed-up of a second box.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import create_async_engine

from bench._common import emit, parser
from subtitler.cluster.notify import EventBridge
from subtitler.db import Database
from subtitler.db.models import Job, utcnow
from subtitler.events import EventBus
from subtitler.jobs.claim import claim_statement
from subtitler.jobs.queue import JobQueue
from subtitler.workers.supervised import CLAIM_POLL
from tests.postgres.conftest import throwaway_postgres
from tests.postgres.nodes import TINY_FAST, launch, prepare_database, wait, wait_healthy
from tests.speechgen import ENGLISH, MediaFactory, Track


async def _empty(url: str) -> None:
    db = Database(url)
    async with db.write() as session:
        await session.execute(delete(Job))
    await db.dispose()


async def claims_per_second(url: str, *, jobs: int, claimers: int) -> dict[str, Any]:
    await _empty(url)
    engine = create_async_engine(url, pool_size=claimers, max_overflow=0)
    async with engine.begin() as conn:
        await conn.execute(insert(Job), [
            {"id": f"b{n:07d}", "file_path": f"/m/{n}.mkv", "file_name": f"{n}.mkv",
             "priority": n % 4, "options": {}} for n in range(jobs)
        ])  # fmt: skip
    counts = [0] * claimers

    async def claimer(index: int) -> None:
        while True:
            async with engine.begin() as conn:
                stmt = claim_statement(worker_id=f"w{index}", node_id="bench", now=utcnow(),
                                       lease_seconds=60, local_only=True)  # fmt: skip
                if (await conn.execute(stmt)).first() is None:
                    return
            counts[index] += 1

    started = time.perf_counter()
    await asyncio.gather(*(claimer(i) for i in range(claimers)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return {"jobs": sum(counts), "claimers": claimers, "seconds": round(elapsed, 2),
            "claims_per_second": round(sum(counts) / elapsed, 1)}  # fmt: skip


async def claim_to_start(url: str, *, trials: int) -> dict[str, Any]:
    """Median ms from enqueue on node A to the claim on node B: NOTIFY wake vs idle polling."""
    await _empty(url)
    db_a, db_b = Database(url), Database(url)
    bus_a, bus_b = EventBus(), EventBus()
    for bus in (bus_a, bus_b):
        bus.bind_loop(asyncio.get_running_loop())
    queue_a = JobQueue(db_a, bus_a, node_id="a")
    queue_b = JobQueue(db_b, bus_b, node_id="b")
    bridges = [EventBridge(url=url, bus=bus_a, node_id="a"),
               EventBridge(url=url, bus=bus_b, node_id="b")]  # fmt: skip
    for bridge in bridges:
        bridge.start()
    for bridge in bridges:
        await asyncio.wait_for(bridge.connected.wait(), 10)
    sub = bus_b.subscribe({"job_created"})
    notify_ms: list[float] = []
    poll_ms: list[float] = []
    for n in range(trials):  # woken by the other node's NOTIFY, then one claim
        started = time.perf_counter()
        await queue_a.enqueue(file_path=f"/n/{n}.mkv", file_name="x.mkv")
        await sub.get(wait_seconds=10)
        assert await queue_b.claim(worker_id="w") is not None
        notify_ms.append((time.perf_counter() - started) * 1000)
    sub.close()
    for n in range(trials):  # an idle worker that only polls, at a random point of its cycle
        phase = (n + 0.5) / trials * CLAIM_POLL
        started = time.perf_counter()
        await queue_a.enqueue(file_path=f"/p/{n}.mkv", file_name="x.mkv")
        await asyncio.sleep(phase)
        while await queue_b.claim(worker_id="w") is None:  # noqa: ASYNC110 (what is measured)
            await asyncio.sleep(CLAIM_POLL)
        poll_ms.append((time.perf_counter() - started) * 1000)
    for bridge in bridges:
        await bridge.stop()
    await db_a.dispose()
    await db_b.dispose()
    return {"trials": trials, "poll_interval_s": CLAIM_POLL,
            "notify_median_ms": round(statistics.median(notify_ms), 1),
            "notify_max_ms": round(max(notify_ms), 1),
            "polling_median_ms": round(statistics.median(poll_ms), 1)}  # fmt: skip


def nodes_throughput(url: str, *, jobs: int, root: Path) -> dict[str, Any]:
    library = root / "library"
    library.mkdir()
    media = MediaFactory(root / "gen")
    source = media.mkv([Track(media.speech(ENGLISH), language="eng", default=True)])
    out: dict[str, Any] = {"jobs": jobs}
    # Jobs are only accepted for files under an allowed folder: the bench's own library.
    allowed = {"SUBTITLER_ALLOWED_PATHS": str(library)}
    for count in (1, 2):
        prepare_database(url, worker_cpu_count=1, worker_gpu_count=0, preset_fast=TINY_FAST)
        nas = launch("serve", root, f"nas{count}", db_url=url,
                     env={"SUBTITLER_START_WORKERS": "false", **allowed})  # fmt: skip
        wait_healthy(nas)
        nodes = [launch("worker", root, f"n{count}-{i}", db_url=url, env=allowed)
                 for i in range(count)]  # fmt: skip
        try:
            for node in nodes:
                wait_healthy(node)
            videos = []
            for n in range(jobs):
                target = library / f"run{count} E{n:02d}.mkv"
                shutil.copyfile(source, target)
                videos.append(target)
            time.sleep(3)  # let the workers load their model before the clock starts
            started = time.perf_counter()
            ids = [_created(httpx.post(f"{nas.url}/api/jobs", json={"file_path": str(v),
                   "target_lang": "eng", "quality_preset": "fast"})) for v in videos]  # fmt: skip

            def done(ids: list[str] = ids, base: str = nas.url) -> bool:
                return all(httpx.get(f"{base}/api/jobs/{i}").json()["status"] == "completed"
                           for i in ids)  # fmt: skip

            wait(done, timeout=600, what="the jobs")
            elapsed = time.perf_counter() - started
            out[f"{count}_node"] = {"seconds": round(elapsed, 1),
                                    "jobs_per_minute": round(jobs / elapsed * 60, 2)}  # fmt: skip
        finally:
            for node in [*nodes, nas]:
                node.stop()
    return out


def _created(response: httpx.Response) -> str:
    """The new job's id; a refusal says why (not a KeyError)."""
    if response.status_code != 201:
        raise RuntimeError(f"POST /api/jobs: {response.status_code} {response.text}")
    return str(response.json()["id"])


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--claim-jobs", type=int, default=5000)
    cli.add_argument("--claimers", type=int, default=8)
    cli.add_argument("--wake-trials", type=int, default=8)
    cli.add_argument("--jobs", type=int, default=6)
    cli.add_argument("--skip-nodes", action="store_true", help="only the database figures")
    args = cli.parse_args()
    if args.quick:
        args.claim_jobs, args.claimers, args.wake_trials, args.jobs = 50, 2, 1, 1
    result: dict[str, Any] = {}
    with throwaway_postgres() as url, tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        prepare_database(url)
        result["claims"] = asyncio.run(
            claims_per_second(url, jobs=args.claim_jobs, claimers=args.claimers)
        )
        result["claim_to_start"] = asyncio.run(claim_to_start(url, trials=args.wake_trials))
        if not args.skip_nodes:
            result["nodes"] = nodes_throughput(url, jobs=args.jobs, root=Path(tmp))
    return emit(result)


if __name__ == "__main__":
    sys.exit(main())
