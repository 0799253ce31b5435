"""One machine with no worker running: Bazarr's requests get 503 no_worker with Retry-After at
once (nothing queued, nothing left in the spool), never a request that waits for ever."""

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
