"""The supervisor <-> worker pipe reads whole messages whatever the event loop does to it.

Under uvloop (uvicorn's default loop) `loop.add_reader()` put the supervisor's end of the pipe in
O_NONBLOCK, and the blocking `Connection.recv()` in the reader callback raised BlockingIOError in
the middle of any message larger than the socket buffer: the multi-MB DONE of a film was read as
the worker's death (issue 17). A real supervisor, pool, pipe and SQLite queue; the worker process
is a stand-in that answers with a film-sized DONE (tests/integration/fake_workers.py).
"""

from __future__ import annotations

import asyncio
import pickle
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import uvloop

from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.db.models import Job
from subtitler.workers import messages as msg
from subtitler.workers import pool as pool_module
from subtitler.workers.supervised import SupervisedWorker
from tests.integration.fake_workers import big_result_worker, film_document

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "uvloop": uvloop.new_event_loop,
    "asyncio": asyncio.new_event_loop,
}


class FilmWorker(SupervisedWorker):
    child_main = staticmethod(big_result_worker)


async def _until(probe: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _film_job_completes(data: Path, media: Path) -> None:
    daemon = Daemon(Config(data_dir=data, node_id="channel-test", start_workers=False))
    await daemon.start()
    try:
        worker = await daemon.pool.add(worker_type="cpu", device_id=None)
        assert isinstance(worker, FilmWorker)
        await _until(lambda: worker.state.status == "idle", "the worker to start")
        pid = worker.state.pid
        jobs = [
            await daemon.queue.enqueue(
                file_path=str(media), file_name=media.name, target_lang=lang, channel="api"
            )
            for lang in ("eng", "fra")
        ]
        for job in jobs:
            done = await _wait_done(daemon, job.id)
            assert done.status == "completed", (done.status, done.error)
            assert done.crash_count == 0 and done.recovered_count == 0
            stored = await daemon.results.load(job.id)
            assert len(stored.cues) == len(film_document()["cues"])
            assert stored.segments[-1]["words"][-1][2] == " again1999"
        log = [line.message for line in await daemon.queue.logs(jobs[0].id)]
        assert not any("died" in m or "requeued" in m for m in log), log
        assert worker.state.pid == pid and worker.state.jobs_completed == 2  # never restarted
    finally:
        await daemon.stop()


async def _wait_done(daemon: Daemon, job_id: str) -> Job:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = await daemon.queue.get(job_id)
        if job.status in ("completed", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_a_film_sized_result_is_read_whole_on_any_event_loop(
    loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = len(pickle.dumps((msg.DONE, {"result": {"stored_cues": film_document()}})))
    assert size > 4 * 1024 * 1024  # far above any socket buffer
    monkeypatch.setattr(pool_module, "SupervisedWorker", FilmWorker)
    media = tmp_path / "library" / "Film.mkv"
    media.parent.mkdir()
    media.write_bytes(b"\x1a\x45\xdf\xa3 not really a film")
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(_film_job_completes(tmp_path / "data", media))
