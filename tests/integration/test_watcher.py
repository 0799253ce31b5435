"""The watcher on a real folder (inotify, then polling): a slow chunked copy is queued exactly once,
after it ends; a move into the library is seen; a deleted or moved-away file cancels its job."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from subtitler.daemon import Daemon
from subtitler.db.models import Job
from tests.mediagen import Audio, Spec, make_media

QUIET = 1.5  # seconds; chunks land 0.3 s apart, so a copy is never quiet that long


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_media(
        tmp_path_factory.mktemp("src") / "source.mkv",
        Spec(audio=(Audio(language="jpn"),), duration=2.0),
    )


async def _jobs(daemon: Daemon, path: Path) -> list[Job]:
    async with daemon.db.read() as session:
        stmt = select(Job).where(Job.file_path == str(path)).order_by(Job.created_at)
        return list((await session.scalars(stmt)).all())


async def _wait_for(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> float:
    """Await `check()` (a coroutine returning truthy) and return when it held (monotonic)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def _start(
    client: httpx.AsyncClient, daemon: Daemon, library: Path, *, polling: bool = False
) -> None:
    library.mkdir(parents=True, exist_ok=True)
    await daemon.settings.bulk_update(
        {"library_paths": [str(library)], "scanner_quiet_seconds": QUIET}
    )
    rule = {"name": "Japanese to English", "conditions": {"audio_language_is": "jpn"},
            "action": {"target_language": "eng"}}  # fmt: skip
    assert (await client.post("/api/scan-rules", json=rule)).status_code == 201
    resp = await client.post("/api/scanner/watcher/start", json={"polling": polling})
    assert resp.json() == {"message": "File watcher started successfully"}
    status = (await client.get("/api/scanner/status")).json()
    assert status["watcher_running"] and status["watched_paths"] == [str(library)]
    assert status["watcher_mode"] == ("polling" if polling else "inotify")


async def test_slow_copy_is_queued_once_after_it_ends_and_delete_cancels(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path, source: Path
) -> None:
    library = tmp_path / "library"
    await _start(client, daemon, library)
    target = library / "Incoming" / "Movie.mkv"
    target.parent.mkdir()
    await asyncio.sleep(0.2)  # let inotify add the new folder's watch
    data = source.read_bytes()
    chunks = 8
    step = len(data) // chunks + 1
    with target.open("wb") as out:
        for i in range(chunks):  # 8 chunks, 0.3 s apart: 2.4 s, longer than the quiet period
            out.write(data[i * step : (i + 1) * step])
            out.flush()
            copied = time.monotonic()
            await asyncio.sleep(0.3)
            jobs = await _jobs(daemon, target)
            if time.monotonic() - copied < QUIET:  # else a busy machine starved the copy itself
                assert jobs == [], f"queued during the copy (chunk {i})"

    # junk and partial downloads in the same folder are never queued
    (target.parent / ".DS_Store").write_bytes(b"x")
    (target.parent / "Next.mkv.part").write_bytes(data[:100])

    async def queued() -> bool:
        return len(await _jobs(daemon, target)) > 0

    latency = await _wait_for(queued) - copied
    # never before the quiet period; after it, as soon as the machine allows (bench/scan.py
    # measures the latency precisely; a loaded machine only makes it longer)
    assert QUIET <= latency <= QUIET + 15.0, latency
    await asyncio.sleep(QUIET + 0.5)
    (job,) = await _jobs(daemon, target)  # exactly once
    assert (job.status, job.target_lang, job.source_lang) == ("queued", "eng", "jpn")
    assert (await client.get("/api/jobs/stats")).json()["total_jobs"] == 1

    target.unlink()

    async def cancelled() -> bool:
        return (await _jobs(daemon, target))[0].status == "cancelled"

    await _wait_for(cancelled)
    (gone,) = await _jobs(daemon, target)
    assert gone.error is not None and "deleted" in gone.error
    stopped = await client.post("/api/scanner/watcher/stop")
    assert stopped.json() == {"message": "File watcher stopped successfully"}
    assert (await client.get("/api/scanner/status")).json()["watcher_running"] is False


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
async def test_move_into_the_library_and_move_away(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path, source: Path, polling: bool
) -> None:
    library = tmp_path / "library"
    await _start(client, daemon, library, polling=polling)
    staging = tmp_path / "downloads" / "Film.mkv"  # Radarr imports by moving
    staging.parent.mkdir()
    shutil.copyfile(source, staging)
    moved = library / "Film (2020)" / "Film.mkv"
    moved.parent.mkdir()
    await asyncio.sleep(0.2)
    staging.rename(moved)

    async def queued() -> bool:
        return len(await _jobs(daemon, moved)) == 1

    await _wait_for(queued)
    away = tmp_path / "elsewhere.mkv"
    moved.rename(away)

    async def cancelled() -> bool:
        return (await _jobs(daemon, moved))[0].status == "cancelled"

    await _wait_for(cancelled)
    (job,) = await _jobs(daemon, moved)
    assert job.error is not None and ("moved away" in job.error or "deleted" in job.error)
    assert await _jobs(daemon, away) == []


async def test_watcher_needs_library_paths(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/scanner/watcher/start")
    assert resp.status_code == 400 and resp.json()["detail"] == "No library paths configured"
