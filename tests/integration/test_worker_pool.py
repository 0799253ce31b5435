"""The worker pool with real worker processes and real faster-whisper on the bundled models."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pysubs2
import pytest

from subtitler.daemon import Daemon
from tests.speechgen import ENGLISH, MediaFactory, Track
from tests.subnorms import check

pytestmark = pytest.mark.slow


async def wait_for(
    probe: Callable[[], Awaitable[Any]], *, timeout: float = 120.0, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def job_in(client: httpx.AsyncClient, job_id: str, *statuses: str) -> dict[str, Any] | None:
    job = (await client.get(f"/api/jobs/{job_id}")).json()
    return job if job["status"] in statuses else None


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    root.mkdir()
    return root


@pytest.fixture
async def worker(client: httpx.AsyncClient) -> AsyncIterator[dict[str, Any]]:
    resp = await client.post("/api/workers", json={"worker_type": "cpu"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["worker_id"] == "worker-cpu-0"

    async def idle() -> bool:
        return (await client.get("/api/workers/worker-cpu-0")).json()["status"] == "idle"

    await wait_for(idle, timeout=60, what="worker to start")
    yield body


def english_video(media: MediaFactory, library: Path, name: str, repeat: int = 1) -> Path:
    speech = media.speech(ENGLISH)
    wav = media.concat([speech] * repeat) if repeat > 1 else speech
    source = media.mkv([Track(wav, language="eng", default=True)])
    target = library / name
    shutil.copyfile(source, target)
    return target


async def create_job(client: httpx.AsyncClient, path: Path, **extra: Any) -> dict[str, Any]:
    body = {"file_path": str(path), "target_lang": "eng", "quality_preset": "fast", **extra}
    resp = await client.post("/api/jobs", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_job_completes_with_live_progress_and_a_readable_subtitle(
    client: httpx.AsyncClient,
    daemon: Daemon,
    worker: dict[str, Any],
    media: MediaFactory,
    library: Path,
) -> None:
    video = english_video(media, library, "Café Show S01E02.mkv")
    sub = daemon.bus.subscribe({"job_updated"})
    job = await create_job(client, video)
    done = await wait_for(lambda: job_in(client, job["id"], "completed", "failed"))
    assert done["status"] == "completed", done
    events = []
    while (event := await sub.get(wait_seconds=0.01)) is not None:
        events.append(event.data)
    sub.close()
    stages = [e["current_stage"] for e in events if e.get("current_stage")]
    assert "transcribing" in stages and "writing" in stages
    progress = [e["progress"] for e in events if "progress" in e]
    assert progress == sorted(progress) and progress[-1] == 100.0

    output = Path(done["output_path"])
    assert output == library / "Café Show S01E02.eng.srt"
    subs = pysubs2.load(str(output))
    hard, _soft = check(subs)
    assert hard == []
    text = " ".join(e.plaintext for e in subs.events).lower()
    assert "weather" in text and "london" in text
    assert done["segments_count"] == len(subs.events)
    assert done["model_used"] and done["device_used"] == "cpu"
    assert done["speech_detected"] is True and done["processing_time_seconds"] > 0
    assert not list(library.glob(".subtitler-*"))  # no temp file left behind
    stats = (await client.get("/api/workers/stats")).json()
    assert stats["total_jobs_completed"] == 1 and stats["cpu_workers"] == 1
    assert daemon.settings.get("worker_cpu_count") == 1
    log = [line["message"] for line in (await client.get(f"/api/jobs/{job['id']}/log")).json()]
    assert any(m.startswith("audio track 0 chosen") for m in log)
    assert any(m.startswith("model ") and " on cpu " in m for m in log)


async def test_users_own_subtitle_is_not_overwritten(
    client: httpx.AsyncClient, worker: dict[str, Any], media: MediaFactory, library: Path
) -> None:
    video = english_video(media, library, "Movie.mkv")
    mine = library / "Movie.eng.srt"
    mine.write_text("1\n00:00:01,000 --> 00:00:02,000\nMy own subtitle\n")
    # Refused before anything is queued (the check at claim: tests/integration/test_job_results)
    body = {"file_path": str(video), "target_lang": "eng", "quality_preset": "fast"}
    refused = await client.post("/api/jobs", json=body)
    assert refused.status_code == 409
    assert refused.json()["code"] == "output_exists"
    assert "overwrite_existing_subtitles" in refused.json()["detail"]
    assert mine.read_text().endswith("My own subtitle\n")


async def test_cancel_stops_a_running_job_within_5_seconds(
    client: httpx.AsyncClient, worker: dict[str, Any], media: MediaFactory, library: Path
) -> None:
    video = english_video(media, library, "Long.mkv", repeat=8)
    job = await create_job(client, video)

    async def transcribing() -> bool:
        found = await job_in(client, job["id"], "processing")
        return bool(found and found["current_stage"] == "transcribing")

    await wait_for(transcribing, what="transcription to start")
    started = time.monotonic()
    assert (await client.post(f"/api/jobs/{job['id']}/cancel")).status_code == 200

    async def idle() -> bool:
        w = (await client.get("/api/workers/worker-cpu-0")).json()
        return w["status"] == "idle" and w["current_job_id"] is None

    await wait_for(idle, timeout=30, what="worker to drop the job")
    assert time.monotonic() - started <= 15.0  # a few seconds; a busy machine adds its delays
    assert (await client.get(f"/api/jobs/{job['id']}")).json()["status"] == "cancelled"
    assert not list(library.glob("Long.*.srt")) and not list(library.glob(".subtitler-*"))


async def test_killed_worker_is_restarted_and_its_job_completes(
    client: httpx.AsyncClient, worker: dict[str, Any], media: MediaFactory, library: Path
) -> None:
    video = english_video(media, library, "Crash.mkv", repeat=3)
    job = await create_job(client, video)
    await wait_for(lambda: job_in(client, job["id"], "processing"), what="processing")
    pid = (await client.get("/api/workers/worker-cpu-0")).json()["pid"]
    os.kill(pid, signal.SIGKILL)
    done = await wait_for(lambda: job_in(client, job["id"], "completed", "failed"))
    assert done["status"] == "completed", done
    after = (await client.get("/api/workers/worker-cpu-0")).json()
    assert after["pid"] != pid
    log = [line["message"] for line in (await client.get(f"/api/jobs/{job['id']}/log")).json()]
    assert any("process died" in m for m in log)


async def test_no_speech_completes_without_a_file(
    client: httpx.AsyncClient, worker: dict[str, Any], media: MediaFactory, library: Path
) -> None:
    silent = library / "Silence.mkv"
    shutil.copyfile(media.mkv([Track(media.silence(12.0), language="eng")]), silent)
    job = await create_job(client, silent)
    done = await wait_for(lambda: job_in(client, job["id"], "completed", "failed"))
    assert done["status"] == "completed", done
    assert done["speech_detected"] is False and done["speech_ratio"] < 0.05
    assert done["output_path"] is None
    assert not list(library.glob("Silence.*.srt"))


@pytest.mark.parametrize(
    ("kind", "code"), [("garbage", "media_unreadable"), ("truncated", "media_truncated")]
)
async def test_bad_media_fails_with_a_clear_code(
    client: httpx.AsyncClient,
    worker: dict[str, Any],
    media: MediaFactory,
    library: Path,
    kind: str,
    code: str,
) -> None:
    if kind == "garbage":
        source = media.garbage()
    else:
        long = media.concat([media.speech(ENGLISH)] * 4)
        source = media.truncated(media.mkv([Track(long, language="eng")]), keep=0.4)
    bad = library / f"bad.{kind}.mkv"
    shutil.copyfile(source, bad)
    job = await create_job(client, bad)
    failed = await wait_for(lambda: job_in(client, job["id"], "completed", "failed"))
    assert (failed["status"], failed["error_code"]) == ("failed", code), failed
    assert failed["error"]


async def test_workers_api_errors_and_settings_write_back(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    gpu = await client.post("/api/workers", json={"worker_type": "gpu", "device_id": 0})
    if not daemon.nvml.gpus():
        assert gpu.status_code == 400 and "No GPU" in gpu.json()["detail"]
    no_device = await client.post("/api/workers", json={"worker_type": "gpu"})
    assert no_device.status_code == 400 and "device_id" in no_device.json()["detail"]
    bad_type = await client.post("/api/workers", json={"worker_type": "tpu"})
    assert bad_type.status_code == 400 and "worker_type" in bad_type.json()["detail"]
    assert (await client.get("/api/workers/worker-cpu-9")).status_code == 404
    assert (await client.delete("/api/workers/worker-cpu-9")).status_code == 404

    sub = daemon.bus.subscribe({"worker_updated"})
    started = await client.post("/api/workers/pool/start", params={"cpu_workers": 2})
    assert started.json() == {"message": "Worker pool started: 2 CPU workers, 0 GPU workers"}

    async def both_idle() -> bool:
        workers = (await client.get("/api/workers")).json()
        return len(workers) == 2 and all(w["status"] == "idle" for w in workers)

    await wait_for(both_idle, timeout=60, what="two idle workers")
    seen = []
    while (event := await sub.get(wait_seconds=0.5)) is not None:
        seen.append((event.data["worker_id"], event.data["status"]))
    sub.close()
    assert ("worker-cpu-0", "starting") in seen and ("worker-cpu-0", "idle") in seen
    ids = sorted(w["worker_id"] for w in (await client.get("/api/workers")).json())
    assert ids == ["worker-cpu-0", "worker-cpu-1"]
    assert daemon.settings.get("worker_cpu_count") == 2
    removed = await client.delete("/api/workers/worker-cpu-1", params={"timeout": 5})
    assert removed.json() == {"message": "Worker worker-cpu-1 removed successfully"}
    assert daemon.settings.get("worker_cpu_count") == 1
    stopped = await client.post("/api/workers/pool/stop", params={"timeout": 5})
    assert stopped.json() == {"message": "Worker pool stopped successfully"}
    stats = (await client.get("/api/workers/stats")).json()
    assert stats["total_workers"] == 0 and stats["is_running"] is False
    assert daemon.settings.get("worker_cpu_count") == 0
