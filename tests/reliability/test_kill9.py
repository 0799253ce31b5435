"""kill -9 of the daemon twenty times while a queue is being worked: nothing is lost, no partial
subtitle is left, the database passes its integrity check, and every job completes."""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pysubs2
import pytest

from tests.conftest import start_server
from tests.speechgen import ENGLISH, MediaFactory, Track

pytestmark = pytest.mark.slow

ROUNDS = 20
FILES = 4


def test_kill_9_twenty_times_with_a_queue(tmp_path: Path) -> None:
    media = MediaFactory(tmp_path / "media")
    library = tmp_path / "library"
    library.mkdir()
    clip = media.mkv([Track(media.speech(ENGLISH), language="eng")])
    videos = []
    for n in range(FILES):
        video = library / f"Episode {n}.mkv"
        shutil.copyfile(clip, video)
        videos.append(video)
    data = tmp_path / "data"
    rng = random.Random(14)
    job_ids: list[str] = []
    for round_no in range(ROUNDS):
        srv = start_server(data)
        try:
            if round_no == 0:
                for video in videos:
                    resp = httpx.post(
                        f"{srv.url}/api/jobs",
                        json={"file_path": str(video), "target_lang": "eng",
                              "quality_preset": "fast"},
                        timeout=10,
                    )  # fmt: skip
                    assert resp.status_code == 201, resp.text
                    job_ids.append(resp.json()["id"])
            time.sleep(rng.uniform(0.2, 1.5))
        finally:
            assert srv.stop(signal.SIGKILL) == -signal.SIGKILL
        # Between runs: no partial file beside any video.
        assert not list(library.glob(".subtitler-*")), f"partial file after round {round_no}"
        for srt in library.glob("*.srt"):
            assert pysubs2.load(str(srt)).events, f"{srt.name} is incomplete"

    db = data / "subtitler.db"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()

    final = start_server(data)
    try:
        deadline = time.monotonic() + 180
        jobs: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            listing = httpx.get(f"{final.url}/api/jobs", params={"page_size": 100}, timeout=10)
            jobs = listing.json()["jobs"]
            if all(j["status"] in ("completed", "failed") for j in jobs):
                break
            time.sleep(0.5)
        assert sorted(j["id"] for j in jobs) == sorted(job_ids), "a job was lost"
        failed = [j for j in jobs if j["status"] != "completed"]
        assert not failed, failed  # daemon restarts never count against a job
        for job in jobs:
            output = Path(str(job["output_path"]))
            assert output.is_file() and pysubs2.load(str(output)).events
        assert not list(library.glob(".subtitler-*"))
        assert httpx.get(f"{final.url}/health", timeout=5).status_code == 200
    finally:
        final.stop()
