"""The Library's verdict on PostgreSQL (issue 18): the history query (the audio language a job
detected, read from the job's options as JSON) and the re-decide on job events, as on SQLite."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from subtitler.daemon import Daemon
from tests.mediagen import Audio, Spec, make_media

Both = tuple[Daemon, httpx.AsyncClient]


async def test_a_detected_language_is_a_skip_on_postgres(
    pg_daemon_client: Both, tmp_path: Path
) -> None:
    daemon, client = pg_daemon_client
    lib = tmp_path / "lib"
    make_media(lib / "Untagged.mkv", Spec(audio=(Audio(),)))
    assert (await client.put("/api/settings/library_paths", json={"value": [str(lib)]})).is_success
    rule = {"name": "English audio", "conditions": {"audio_language_is": "eng"},
            "action": {"action_type": "transcribe", "target_language": "eng"}}  # fmt: skip
    assert (await client.post("/api/scan-rules", json=rule)).status_code == 201
    assert (await client.post("/api/scanner/scan", json={})).json()["jobs_created"] == 1
    job = await daemon.queue.claim(worker_id="w1")
    assert job is not None and job.options["audio_track"] == 0
    await daemon.queue.fail(
        job.id, worker_id="w1", error="the audio is deu", error_code="rule_language_mismatch",
        source_lang="deu",
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        row = (await client.get("/api/library")).json()["items"][0]
        if row["verdict"] == "no_match" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert row["verdict"] == "no_match" and row["detected_languages"] == ["deu"]
    history = await daemon.scanner.library.history(roots=[str(lib)])
    assert history.detected == {str(lib / "Untagged.mkv"): {0: "deu"}}
    assert (await client.post("/api/scanner/scan", json={})).json()["jobs_created"] == 0
