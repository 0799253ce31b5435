"""Jobs through a real worker process and faster-whisper: the pre-check at claim stops a job
before any audio is decoded, a silent untagged file completes as "no speech" (voice activity
before language detection), results download in every format and as segments with words, a
redo replaces our own file, and the histograms of /metrics count the jobs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pysubs2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_worker_pool import create_job, english_video, job_in, wait_for
from tests.speechgen import MediaFactory, Track

pytestmark = pytest.mark.slow


async def _start_worker(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/workers", json={"worker_type": "cpu"})
    assert resp.status_code == 201, resp.text


async def _finished(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    try:
        done = await wait_for(lambda: job_in(client, job_id, "completed", "failed"), timeout=240)
    except AssertionError:
        workers = (await client.get("/api/workers")).json()
        log = (await client.get(f"/api/jobs/{job_id}/log")).json()
        raise AssertionError(f"job {job_id} did not finish: workers {workers}, log {log}") from None
    assert isinstance(done, dict)
    return done


async def test_prechecks_silence_downloads_redo_and_metrics(
    client: httpx.AsyncClient, media: MediaFactory, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    talk = english_video(media, library, "Talk.mkv")
    blocked = english_video(media, library, "Blocked.mkv")
    silent = library / "Quiet.mkv"
    shutil.copyfile(media.mkv([Track(media.silence(10.0), language=None)]), silent)

    # Queued before any worker runs; then a human subtitle appears beside one of them.
    blocked_job = await create_job(client, blocked, priority=10)
    silent_job = await create_job(client, silent, priority=5)
    talk_job = await create_job(client, talk, output_format="srt")
    human = library / "Blocked.eng.srt"
    human.write_text("1\n00:00:00,500 --> 00:00:02,000\nWritten by a person\n")
    await _start_worker(client)

    refused = await _finished(client, blocked_job["id"])
    assert (refused["status"], refused["error_code"]) == ("failed", "output_exists")
    log = [line["message"] for line in (await client.get(f"/api/jobs/{refused['id']}/log")).json()]
    assert any("pre-check failed (output_exists)" in m for m in log)
    assert not any("audio track" in m or "extracting" in m for m in log), log  # nothing decoded
    assert human.read_text().endswith("Written by a person\n")

    quiet = await _finished(client, silent_job["id"])
    assert quiet["status"] == "completed", quiet
    assert quiet["speech_detected"] is False and quiet["output_path"] is None
    assert quiet["source_lang"] is None  # no language detection on silence
    quiet_log = [m["message"] for m in (await client.get(f"/api/jobs/{quiet['id']}/log")).json()]
    assert any(m.startswith("voice activity:") for m in quiet_log)
    assert not any("language votes" in m for m in quiet_log)

    done = await _finished(client, talk_job["id"])
    assert done["status"] == "completed", done
    srt_path = Path(done["output_path"])
    assert srt_path.name == "Talk.eng.srt" and srt_path.is_file()

    for fmt in ("srt", "vtt", "ass"):
        resp = await client.get(f"/api/jobs/{done['id']}/subtitle", params={"format": fmt})
        assert resp.status_code == 200, fmt
        assert f'filename="Talk.eng.{fmt}"' in resp.headers["content-disposition"]
        subs = pysubs2.SSAFile.from_string(resp.text)
        assert len(subs) == done["segments_count"], fmt
        assert "weather" in " ".join(e.plaintext for e in subs).lower()
    lrc = (await client.get(f"/api/jobs/{done['id']}/subtitle", params={"format": "lrc"})).text
    assert lrc.startswith("[00:0")
    txt = (await client.get(f"/api/jobs/{done['id']}/subtitle", params={"format": "txt"})).text
    assert "weather" in txt.lower()
    doc = json.loads(
        (await client.get(f"/api/jobs/{done['id']}/subtitle", params={"format": "json"})).text
    )
    assert doc["segments"] and doc["segments"][0]["words"]

    segments = (await client.get(f"/api/jobs/{done['id']}/segments")).json()
    assert segments["language"] == "eng" and len(segments["cues"]) == done["segments_count"]
    words = [w for s in segments["segments"] for w in s["words"]]
    assert words and all(w["end"] >= w["start"] for w in words)

    # Redo as WebVTT: a new job; our .srt goes, the .vtt comes; the old job's cues remain.
    redo = await client.post(f"/api/jobs/{done['id']}/redo", json={"output_format": "vtt"})
    assert redo.status_code == 201, redo.text
    again = await _finished(client, redo.json()["id"])
    assert again["status"] == "completed", again
    assert Path(again["output_path"]).name == "Talk.eng.vtt"
    assert not srt_path.exists()
    old = await client.get(f"/api/jobs/{done['id']}/subtitle", params={"format": "srt"})
    assert old.status_code == 200
    refused_again = await client.post(f"/api/jobs/{refused['id']}/redo", json={})
    assert refused_again.status_code == 409

    text = (await client.get("/metrics")).text
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.labels or (set(s.labels) <= {"le"} and s.name.endswith("_count"))
    }
    assert samples["subtitler_job_duration_seconds_count"] >= 2
    assert samples["subtitler_job_realtime_factor_count"] >= 2
