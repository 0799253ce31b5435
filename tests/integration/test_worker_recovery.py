"""A worker's result is never lost, and a stuck worker does not keep its job (issue 17).

Real pool, real worker processes, real faster-whisper (the `fast` preset), real
SQLite; the crash is real too (SIGKILL / SIGSTOP of the worker process)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import select

from subtitler.daemon import Daemon
from subtitler.db.models import Job, SubtitleWriteIntent
from subtitler.subtitles.writer import file_sha256
from subtitler.workers import pool as pool_module
from subtitler.workers.supervised import SupervisedWorker
from tests.integration.test_worker_pool import create_job, english_video, job_in, wait_for
from tests.speechgen import MediaFactory

pytestmark = pytest.mark.slow


class CrashBeforeDoneIsHandled(SupervisedWorker):
    """The first DONE is never handled: the worker process is SIGKILLed the moment its DONE
    arrives, after the subtitle was written (a daemon stop, the OOM killer, a lost message)."""

    crashed: ClassVar[list[dict[str, Any]]] = []

    async def _on_done(self, job: Job, payload: dict[str, Any], written: dict[str, str]) -> None:
        if self.crashed:
            await super()._on_done(job, payload, written)
            return
        path = Path(payload["result"]["output_path"])
        async with self._queue._db.read() as session:
            intents = list(await session.scalars(select(SubtitleWriteIntent)))
        self.crashed.append({"path": path, "sha": file_sha256(path), "intents": intents})
        assert self.state.pid is not None
        os.kill(self.state.pid, signal.SIGKILL)
        await asyncio.to_thread(self._proc.join, 5.0)  # type: ignore[union-attr]
        await self._on_crash(job)


@pytest.fixture
async def crashing_worker(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    monkeypatch.setattr(pool_module, "SupervisedWorker", CrashBeforeDoneIsHandled)
    CrashBeforeDoneIsHandled.crashed = []
    resp = await client.post("/api/workers", json={"worker_type": "cpu"})
    assert resp.status_code == 201, resp.text

    async def idle() -> bool:
        return (await client.get("/api/workers/worker-cpu-0")).json()["status"] == "idle"

    await wait_for(idle, timeout=60, what="worker to start")
    yield


async def test_a_job_rerun_after_a_crash_between_write_and_done_recognises_its_own_file(
    client: httpx.AsyncClient,
    daemon: Daemon,
    crashing_worker: None,
    media: MediaFactory,
    tmp_path: Path,
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    video = english_video(media, library, "Film.mkv")
    job = await create_job(client, video)
    done = await wait_for(lambda: job_in(client, job["id"], "completed", "failed"), timeout=240)
    assert done["status"] == "completed", done
    # The crash happened with the file on disk, and its intent recorded before the rename.
    [crash] = CrashBeforeDoneIsHandled.crashed
    assert crash["path"] == library / "Film.eng.srt"
    [intent] = crash["intents"]
    assert (intent.path, intent.sha256, intent.job_id) == (
        str(crash["path"]),
        crash["sha"],
        job["id"],
    )
    log = [line["message"] for line in (await client.get(f"/api/jobs/{job['id']}/log")).json()]
    assert any("process died" in m for m in log) and not any("output_exists" in m for m in log)
    assert done["output_path"] == str(crash["path"])
    assert (await daemon.queue.get(job["id"])).crash_count == 1
    # The re-run's file is recorded as ours; the intent made way for the record.
    history = (await client.get("/api/subtitles", params={"q": "Film"})).json()
    assert [(i["subtitle_path"], i["job_id"]) for i in history["items"]] == [
        (str(crash["path"]), job["id"])
    ]
    async with daemon.db.read() as session:
        assert list(await session.scalars(select(SubtitleWriteIntent))) == []


async def test_a_stopped_worker_is_restarted_and_its_job_requeued_after_the_stall_limit(
    client: httpx.AsyncClient, daemon: Daemon, media: MediaFactory, tmp_path: Path
) -> None:
    assert (await client.post("/api/workers", json={"worker_type": "cpu"})).status_code == 201

    async def idle() -> bool:
        return (await client.get("/api/workers/worker-cpu-0")).json()["status"] == "idle"

    await wait_for(idle, timeout=60, what="worker to start")
    library = tmp_path / "library"
    library.mkdir()
    # A first job loads the model (no progress meanwhile: on a busy machine longer than the short
    # stall limit below), so the limit judges only the stopped process.
    warm = await create_job(client, english_video(media, library, "Warm.mkv"))
    await wait_for(lambda: job_in(client, warm["id"], "completed"), timeout=240, what="warm-up")
    resp = await client.put("/api/settings/job_stall_seconds", json={"value": "4"})
    assert resp.status_code == 200, resp.text
    video = english_video(media, library, "Stuck.mkv", repeat=3)
    job = await create_job(client, video)

    async def transcribing() -> bool:
        found = await job_in(client, job["id"], "processing")
        return bool(found and found["current_stage"] == "transcribing")

    await wait_for(transcribing, timeout=120, what="transcription to start")
    pid = (await client.get("/api/workers/worker-cpu-0")).json()["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:

        async def requeued() -> bool:
            return (await daemon.queue.get(job["id"])).crash_count == 1

        await wait_for(requeued, timeout=30, what="the stall to be noticed")
    finally:
        with_pid = Path(f"/proc/{pid}")
        if with_pid.exists():
            os.kill(pid, signal.SIGKILL)
    # The re-run must not trip over a busy machine's model load: back to the default.
    await client.put("/api/settings/job_stall_seconds", json={"value": "900"})
    done = await wait_for(lambda: job_in(client, job["id"], "completed", "failed"), timeout=240)
    assert done["status"] == "completed", done
    assert (await daemon.queue.get(job["id"])).crash_count == 1
    log = [line["message"] for line in (await client.get(f"/api/jobs/{job['id']}/log")).json()]
    assert any("no progress for" in m and "job_stall_seconds" in m for m in log), log
    assert any(m.startswith("requeued:") and "stalled" in m for m in log), log
    after = (await client.get("/api/workers/worker-cpu-0")).json()
    assert after["pid"] not in (None, pid)
