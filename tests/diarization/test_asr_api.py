"""The APIs ask for speakers: /asr `diarize` (whisper-asr-webservice's), OpenAI's
`response_format=diarized_json`, POST /api/jobs `diarize` and speaker counts, a rule's action.
A failure is the one sentence with 422, never a 500; the job resource carries `diarization`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from subtitler.asr.output import render_asr
from subtitler.subtitles.speakers import Turn, assign_speakers
from tests.acceptance.test_bazarr import api_key, bazarr_body, pcm_of
from tests.conftest import ServerProcess, start_server
from tests.speechgen import ENGLISH, MediaFactory
from tests.unit.test_cues import seg, words_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaFactory:
    return MediaFactory(tmp_path_factory.mktemp("diar-media"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = start_server(tmp_path_factory.mktemp("diar") / "data")
    try:
        httpx.post(f"{srv.url}/api/workers/pool/stop", params={"timeout": 5}, timeout=60)
        httpx.post(f"{srv.url}/api/workers/pool/start", params={"cpu_workers": 1}, timeout=60)
        yield srv
    finally:
        srv.stop()


def test_asr_diarize_without_a_token_is_one_sentence(
    server: ServerProcess, media: MediaFactory
) -> None:
    audio = pcm_of(media, media.speech(ENGLISH))
    body_url = "&diarize=true&min_speakers=1&max_speakers=2"
    body, boundary = bazarr_body(audio)
    host = server.url.removeprefix("http://")
    resp = httpx.post(
        f"http://bazarr:{api_key(server)}@{host}/asr?task=transcribe&language=en&output=json"
        f"&encode=false{body_url}",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=300,
    )
    # the heartbeat (blank lines, asr_heartbeat) has sent 200 already: the body is the error
    assert resp.status_code in (200, 422), resp.text
    doc = json.loads(resp.text.strip())
    assert doc["code"] == "diarization_no_token"
    assert "https://huggingface.co/pyannote/speaker-diarization-community-1" in doc["detail"]
    assert "Traceback" not in resp.text


def test_openai_diarized_json_failure_has_openais_error(
    server: ServerProcess, media: MediaFactory
) -> None:
    wav = media.speech(ENGLISH)
    resp = httpx.post(
        f"{server.url}/v1/audio/transcriptions",
        files={"file": ("speech.wav", wav.read_bytes(), "audio/wav")},
        data={"model": "whisper-1", "response_format": "diarized_json"},
        headers={"X-Api-Key": api_key(server)},
        timeout=300,
    )
    assert resp.status_code == 422, resp.text
    assert "Hugging Face token" in resp.json()["error"]["message"]


def test_diarized_json_is_openais_shape() -> None:
    words = words_of("Are you coming? In a minute.")
    turns = [Turn(0.0, words[2].end + 0.05, "SPEAKER_00"), Turn(words[3].start, 9.0, "SPEAKER_01")]
    segments = assign_speakers([seg(words)], turns)
    doc = json.loads(
        render_asr(
            "diarized_json",
            cues=[],
            segments=segments,
            language="en",
            language_name="English",
            duration=3.0,
            task="transcribe",
        )
    )
    assert doc["task"] == "transcribe" and doc["duration"] == 3.0
    assert doc["text"] == "Are you coming? In a minute."
    assert [(s["speaker"], s["text"]) for s in doc["segments"]] == [
        ("SPEAKER_00", "Are you coming?"),
        ("SPEAKER_01", "In a minute."),
    ]
    for i, s in enumerate(doc["segments"]):
        assert s["type"] == "transcript.text.segment" and s["id"] == f"seg_{i}"
        assert s["start"] < s["end"]
    plain = json.loads(
        render_asr(
            "json",
            cues=[],
            segments=segments,
            language="en",
            language_name="English",
            duration=3.0,
            task="transcribe",
        )
    )
    assert [w["speaker"] for w in plain["segments"][0]["words"]][:4] == [
        "SPEAKER_00", "SPEAKER_00", "SPEAKER_00", "SPEAKER_01",
    ]  # fmt: skip


async def test_rule_action_diarize_round_trips(client: httpx.AsyncClient) -> None:
    body = {"name": "speakers", "conditions": {"audio_language_is": "eng"},
            "action": {"target_language": "eng", "diarize": True}}  # fmt: skip
    created = await client.post("/api/scan-rules", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["action"]["diarize"] is True
    got = await client.get(f"/api/scan-rules/{created.json()['id']}")
    assert got.json()["action"]["diarize"] is True


async def test_job_options_and_the_diarization_summary_on_the_job(
    client: httpx.AsyncClient, daemon: Any, media_file: Path
) -> None:
    bad = await client.post("/api/jobs", json={"file_path": str(media_file), "target_lang": "eng",
                                               "diarize": True, "min_speakers": 3,
                                               "max_speakers": 2})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["code"] == "bad_speakers"
    created = await client.post("/api/jobs", json={"file_path": str(media_file),
                                                   "target_lang": "eng", "diarize": True,
                                                   "num_speakers": 2})  # fmt: skip
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["request_options"]["diarize"] is True
    assert job["request_options"]["num_speakers"] == 2
    claimed = await daemon.queue.claim(worker_id="w")
    summary = {"speakers": 2, "talk_time": {"SPEAKER_00": 12.5, "SPEAKER_01": 3.25}, "turns": 9}
    await daemon.queue.complete(claimed.id, worker_id="w", output_path="/x.srt",
                                diarization=summary)  # fmt: skip
    assert (await client.get(f"/api/jobs/{job['id']}")).json()["diarization"] == summary
