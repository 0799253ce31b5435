"""Concurrent claimers (threads and processes) never receive the same job from one SQLite file."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy.orm import Session

from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.db.engine import configure_sqlite, immediate_options
from subtitler.db.models import Job, utcnow
from subtitler.jobs.claim import claim_statement

JOBS = 300


def _engine(db_file: str) -> Engine:
    engine = create_engine(f"sqlite:///{db_file}")
    configure_sqlite(engine)
    return engine


def _claim_all(db_file: str, worker_id: str) -> list[str]:
    """A worker loop: claim until the queue is empty; returns what it got."""
    engine = _engine(db_file).execution_options(**immediate_options())
    got: list[str] = []
    while True:
        with Session(engine) as session, session.begin():
            stmt = claim_statement(worker_id=worker_id, node_id="n", now=utcnow())
            job = session.execute(stmt).scalars().first()
            if job is None:
                break
            got.append(job.id)
    engine.dispose()
    return got


def _process_entry(db_file: str, worker_id: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(_claim_all(db_file, worker_id))


@pytest.fixture
async def db_file(tmp_path: Path) -> str:
    daemon = Daemon(Config(data_dir=tmp_path / "data"))
    await daemon.start()
    await daemon.stop()
    path = str(tmp_path / "data" / "subtitler.db")
    engine = _engine(path)
    with engine.begin() as conn:
        conn.execute(
            insert(Job),
            [
                {
                    "id": f"job{n:04d}",
                    "file_path": f"/m/{n}.mkv",
                    "file_name": f"{n}.mkv",
                    "priority": n % 3,
                    "options": {},
                }
                for n in range(JOBS)
            ],
        )
    engine.dispose()
    return path


def _check(db_file: str, claims: list[list[str]]) -> None:
    flat = [job_id for batch in claims for job_id in batch]
    duplicates = [job_id for job_id, count in Counter(flat).items() if count > 1]
    assert duplicates == []
    assert len(flat) == JOBS
    engine = _engine(db_file)
    with Session(engine) as session:
        statuses = Counter(session.scalars(select(Job.status)).all())
        owners = dict(session.execute(select(Job.id, Job.worker_id)).all())
    engine.dispose()
    assert statuses == {"processing": JOBS}
    for worker_index, batch in enumerate(claims):
        assert all(owners[job_id] == f"w{worker_index}" for job_id in batch)


def test_threads_never_share_a_job(db_file: str) -> None:
    claims: list[list[str]] = [[] for _ in range(8)]

    def run(index: int) -> None:
        claims[index] = _claim_all(db_file, f"w{index}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    _check(db_file, claims)
    assert sum(1 for batch in claims if batch) > 1  # the work really was shared


def test_processes_never_share_a_job(db_file: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_process_entry, args=(db_file, f"w{i}", out)) for i in range(6)]
    for p in procs:
        p.start()
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    # Processes finish in any order: map each batch back to its worker by its owner column.
    engine = _engine(db_file)
    with Session(engine) as session:
        owners = dict(session.execute(select(Job.id, Job.worker_id)).all())
    engine.dispose()
    ordered: list[list[str]] = [[] for _ in procs]
    for batch in results:
        if batch:
            ordered[int(owners[batch[0]][1:])] = batch
    _check(db_file, ordered)
