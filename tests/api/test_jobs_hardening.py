"""Issue 19's job API items: 8 concurrent POSTs with one Idempotency-Key make one job (one 201,
the others replay it); `crash_count` in job JSON; `channel=bogus` is a 422; a missing file is
`media_not_found` at POST as at the worker; the subtitle route's OpenAPI names text types
first."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import func, select

from subtitler.daemon import Daemon
from subtitler.db.models import Job


async def test_concurrent_posts_with_one_idempotency_key_make_one_job(
    client: httpx.AsyncClient, daemon: Daemon, media_file: Path
) -> None:
    body = {"file_path": str(media_file), "target_lang": "eng"}
    headers = {"Idempotency-Key": "import-7"}
    answers = await asyncio.gather(
        *(client.post("/api/jobs", json=body, headers=headers) for _ in range(8))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 8, [a.text for a in answers]
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 1
    replayed = [a for a in answers if a.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == 7
    async with daemon.db.read() as session:
        assert await session.scalar(select(func.count(Job.id))) == 1
    # Another body with the key still is the client's mistake.
    other = await client.post("/api/jobs", json={**body, "target_lang": "fra"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_job_json_has_crash_count_and_channel_is_checked(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    made = await client.post("/api/jobs", json={"file_path": str(media_file), "target_lang": "eng"})
    assert made.status_code == 201
    assert made.json()["crash_count"] == 0
    listed = (await client.get("/api/jobs")).json()["jobs"]
    assert listed[0]["crash_count"] == 0
    bogus = await client.get("/api/jobs", params={"channel": "bogus"})
    assert bogus.status_code == 422
    assert (await client.get("/api/jobs", params={"channel": "api"})).json()["total"] == 1


async def test_a_missing_file_is_media_not_found(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    gone = media_file.with_name("Gone.mkv")
    answer = await client.post("/api/jobs", json={"file_path": str(gone), "target_lang": "eng"})
    assert answer.status_code == 400 and answer.json()["code"] == "media_not_found"


async def test_the_subtitle_route_declares_text_types_first(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    content = spec["paths"]["/api/jobs/{job_id}/subtitle"]["get"]["responses"]["200"]["content"]
    types = list(content)
    assert types[0] == "application/x-subrip"
    assert types[-1] == "application/json"
