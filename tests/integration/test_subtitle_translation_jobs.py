"""Subtitle-translation jobs are first-class (issue 20 item 4), for real with apertium and a
worker process: the stored cues behind /subtitle and /segments, History, the variant, what the
job records (task, the subtitle's language, the source file, the log), and subtitler's own text
subtitles as sources."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pysubs2
import pytest

from subtitler.daemon import Daemon
from tests.integration.test_translation_apertium import (
    ENGLISH_SRT,
    defaults,
    reads_as_spanish,
    run_job,
)
from tests.integration.test_worker_pool import job_in, wait_for
from tests.mediagen import Audio, Spec, Sub, make_media
from tests.speechgen import MediaFactory, Track
from tests.subnorms import check

pytestmark = [
    pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium not installed"),
    pytest.mark.slow,
]

SPOKEN = "Good evening. The house is very big, and the garden is beautiful in the summer."


@pytest.fixture
async def worker(client: httpx.AsyncClient) -> AsyncIterator[None]:
    resp = await client.post("/api/workers", json={"worker_type": "cpu"})
    assert resp.status_code == 201, resp.text

    async def idle() -> bool:
        return (await client.get("/api/workers/worker-cpu-0")).json()["status"] == "idle"

    await wait_for(idle, timeout=60, what="worker to start")
    yield


async def finished(client: httpx.AsyncClient, job_id: str) -> dict:
    done = await wait_for(lambda: job_in(client, job_id, "completed", "failed"), timeout=120)
    assert done["status"] == "completed", done
    return done


async def log_of(client: httpx.AsyncClient, job_id: str) -> list[str]:
    return [line["message"] for line in (await client.get(f"/api/jobs/{job_id}/log")).json()]


async def test_a_subtitle_translation_job_is_first_class(
    client: httpx.AsyncClient, daemon: Daemon, worker: None, tmp_path: Path
) -> None:
    lib = tmp_path / "lib"
    video = make_media(lib / "Film.mkv", Spec(audio=(Audio(language="eng"),), duration=7))
    source = lib / "Film.en.srt"
    source.write_text(ENGLISH_SRT, encoding="utf-8")
    resp = await client.post("/api/jobs", json={"file_path": str(video), "target_lang": "es"})
    assert resp.status_code == 201, resp.text
    job = resp.json()
    assert job["job_type"] == "subtitle_translation"
    # what it records: a translation, from the subtitle's language, of that file
    assert job["transcribe_or_translate"] == "translate"
    assert job["source_lang"] == "eng"
    assert job["source_subtitle"]["path"] == str(source)
    log = await log_of(client, job["id"])
    assert log[0].startswith(f"created: translate the subtitle {source}"), log
    assert "spa" in log[0] and "preset" not in log[0]
    done = await finished(client, job["id"])
    assert done["source_lang"] == "eng" and done["transcribe_or_translate"] == "translate"
    assert done["source_subtitle"]["path"] == str(source)
    written = (lib / "Film.spa.srt").read_text(encoding="utf-8")
    assert done["output_path"] == str(lib / "Film.spa.srt")

    # /subtitle renders the stored cues: the same text as the file, any format
    resp = await client.get(f"/api/jobs/{job['id']}/subtitle")
    assert resp.status_code == 200, resp.text
    assert resp.text == written
    assert "Film.spa.srt" in resp.headers["content-disposition"]
    vtt = (await client.get(f"/api/jobs/{job['id']}/subtitle", params={"format": "vtt"})).text
    assert vtt.startswith("WEBVTT") and "<i>Tarde buena, mi amigo.</i>" in vtt
    ass = (await client.get(f"/api/jobs/{job['id']}/subtitle", params={"format": "ass"})).text
    assert r"{\i1}Tarde buena, mi amigo.{\i0}" in ass and "<i>" not in ass
    txt = (await client.get(f"/api/jobs/{job['id']}/subtitle", params={"format": "txt"})).text
    assert "Tarde buena, mi amigo." in txt and "<i>" not in txt
    # /segments: the cues (as written) and one plain segment per cue, no words
    seg = (await client.get(f"/api/jobs/{job['id']}/segments")).json()
    assert seg["language"] == "spa" and len(seg["cues"]) == 3 == len(seg["segments"])
    assert seg["cues"][0]["text"] == "<i>Tarde buena, mi amigo.</i>"
    first = seg["segments"][0]
    assert first["text"] == "Tarde buena, mi amigo." and first["words"] == []
    assert reads_as_spanish(" ".join(s["text"] for s in seg["segments"]))

    # History: the file we wrote, from this job, in Spanish
    items = (await client.get("/api/subtitles", params={"file_path": str(video)})).json()["items"]
    assert [(i["subtitle_path"], i["job_id"], i["language"]) for i in items] == [
        (str(lib / "Film.spa.srt"), job["id"], "spa")
    ]

    # the subtitle's language is no audio language the Library or the rules go by
    history = await daemon.scanner.library.history(paths=[str(video)])
    assert history.detected == {}

    # a redo translates the subtitle again, even with subtitles no longer preferred
    await daemon.settings.bulk_update({"translation_prefer_subtitles": False})
    resp = await client.post(f"/api/jobs/{job['id']}/redo", json={"quality_preset": "best"})
    assert resp.status_code in (200, 201), resp.text
    await daemon.settings.bulk_update({"translation_prefer_subtitles": True})
    redo = await finished(client, resp.json()["id"])
    assert redo["job_type"] == "subtitle_translation" and redo["source_lang"] == "eng"
    assert redo["output_path"] == done["output_path"]
    assert (lib / "Film.spa.srt").read_text(encoding="utf-8") == written

    # variant: a second version beside the first, never over it
    resp = await client.post(
        "/api/jobs", json={"file_path": str(video), "target_lang": "spa", "variant": "v2"}
    )
    assert resp.status_code == 201, resp.text
    v2 = await finished(client, resp.json()["id"])
    assert v2["variant"] == "v2" and v2["output_path"] == str(lib / "Film.spa.v2.srt"), v2
    assert (lib / "Film.spa.srt").read_text(encoding="utf-8") == written
    hard, soft = check(pysubs2.load(v2["output_path"]))
    assert hard == [] and soft == [], (hard, soft)


async def test_our_own_text_subtitle_is_a_valid_source(
    client: httpx.AsyncClient, daemon: Daemon, worker: None, tmp_path: Path
) -> None:
    """A Spanish rule on a file whose only subtitle is the .eng.srt subtitler transcribed:
    that subtitle is translated, the audio is not listened to again."""
    lib = tmp_path / "lib"
    clip = MediaFactory(tmp_path / "media").mkv(
        [Track(MediaFactory(tmp_path / "media").speech(SPOKEN), language="eng", default=True)]
    )
    lib.mkdir()
    video = lib / "News.mkv"
    shutil.copyfile(clip, video)
    body = {"file_path": str(video), "target_lang": "eng", "quality_preset": "fast"}
    first = await finished(client, (await client.post("/api/jobs", json=body)).json()["id"])
    ours = lib / "News.eng.srt"
    assert first["job_type"] == "transcription" and first["output_path"] == str(ours)

    await daemon.settings.bulk_update({"library_paths": [str(lib)]})
    rule = {"name": "Spanish", "action": {"action_type": "translate", "target_language": "es"}}
    assert (await client.post("/api/scan-rules", json=rule)).status_code == 201
    assert (await client.post("/api/scanner/scan")).status_code == 200
    jobs = (await client.get("/api/jobs", params={"page_size": 50})).json()["jobs"]
    spanish = next(j for j in jobs if j["target_lang"] == "spa")
    assert spanish["job_type"] == "subtitle_translation", spanish
    assert spanish["source_subtitle"]["path"] == str(ours)
    done = await finished(client, spanish["id"])
    log = await log_of(client, spanish["id"])
    assert not any("falling back" in line for line in log), log
    assert any("instead of listening" in line and str(ours) in line for line in log), log
    assert not any(line.startswith(("transcribed", "model ")) for line in log), log
    assert done["output_path"] == str(lib / "News.spa.srt") and done["source_lang"] == "eng"
    assert reads_as_spanish((lib / "News.spa.srt").read_text(encoding="utf-8"))


def test_falling_back_to_speech_records_the_audio_language(tmp_path: Path) -> None:
    """The subtitle the job was queued for is gone and only image subtitles are left: the job
    listens, and records a speech translation from the audio's language (not the subtitle's)."""
    video = make_media(
        tmp_path / "lib" / "Pgs.mkv",
        Spec(audio=(Audio(language="eng"),), subs=(Sub(language="eng", image=True),)),
    )
    gone = {"kind": "external", "language": "fra", "path": str(tmp_path / "lib" / "Pgs.fr.srt"),
            "codec": "srt"}  # fmt: skip
    result, rec = run_job(
        {"file_path": str(video), "job_type": "subtitle_translation", "target_lang": "spa",
         "source_lang": "fra", "options": {"subtitle_source": gone, "audio_lang": "eng"}},
        defaults(),
        tmp_path,
    )  # fmt: skip
    assert any("falling back to speech recognition" in line for line in rec.lines)
    assert result["job_type"] == "translation" and result["source_lang"] == "eng", result
    assert result["speech_detected"] is False  # a tone
