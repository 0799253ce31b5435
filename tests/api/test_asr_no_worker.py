"""One machine with no worker running: Bazarr's requests and the OpenAI-compatible ones get 503
no_worker with Retry-After at once (nothing queued, nothing left in the spool), never a request
that waits for ever."""

from __future__ import annotations

import httpx

from subtitler.daemon import Daemon


async def test_no_worker_is_a_quick_503_that_queues_nothing(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    assert daemon.pool.list() == []  # the API tests' daemon starts no worker
    audio = b"\0\1" * 16000
    for path in ("/asr?encode=false&output=srt", "/detect-language?encode=false"):
        resp = await client.post(path, files={"audio_file": ("audio_file", audio)})
        assert resp.status_code == 503, resp.text
        assert resp.json()["code"] == "no_worker" and resp.headers["Retry-After"] == "30"
    jobs = (await client.get("/api/jobs")).json()
    assert jobs["jobs"] == []
    assert list(daemon.config.spool_dir.iterdir()) == []


async def test_openai_routes_with_no_worker_are_a_quick_503_too(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    assert daemon.pool.list() == []
    for path in ("/v1/audio/transcriptions", "/v1/audio/translations"):
        resp = await client.post(
            path,
            files={"file": ("talk.wav", b"RIFF" + b"\0" * 4000, "audio/wav")},
            data={"model": "whisper-1", "response_format": "srt"},
        )
        assert resp.status_code == 503, resp.text
        assert resp.headers["Retry-After"] == "30"
        body = resp.json()
        assert body["code"] == "no_worker"
        assert body["error"] == {"message": body["detail"], "type": "server_error",
                                 "code": "no_worker"}  # fmt: skip
    # a bad request is still told so first (422), whether or not a worker exists
    bad = await client.post(
        "/v1/audio/transcriptions",
        files={"file": ("talk.wav", b"RIFF", "audio/wav")},
        data={"response_format": "docx"},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "bad_response_format"
    assert (await client.get("/api/jobs")).json()["jobs"] == []
    assert list(daemon.config.spool_dir.iterdir()) == []


async def test_impossible_speaker_counts_are_refused_before_the_upload(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    """Checked first: a 400 (not the 503 of a missing worker, not a 200 heartbeat later)."""
    resp = await client.post(
        "/asr",
        params={"diarize": "true", "min_speakers": 5, "max_speakers": 2, "encode": "false"},
        files={"audio_file": ("audio_file", b"\0\1" * 16000)},
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "bad_speakers" and "min_speakers" in resp.json()["detail"]
    assert list(daemon.config.spool_dir.iterdir()) == []
