"""Jobs API against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from subtitler.daemon import Daemon


async def _create(client: httpx.AsyncClient, path: Path, **extra: object) -> httpx.Response:
    body = {"file_path": str(path), "file_name": path.name, "target_lang": "spa", **extra}
    return await client.post("/api/jobs", json=body)


async def test_create_job_returns_every_field(client: httpx.AsyncClient, media_file: Path) -> None:
    # Spanish audio to a Spanish subtitle: no translation, so no provider pre-check (issue 9)
    resp = await _create(client, media_file, source_lang="es", quality_preset="fast", priority=7)
    assert resp.status_code == 201, resp.text
    job = resp.json()
    assert job["status"] == "queued"
    assert job["file_path"] == str(media_file)
    assert job["file_name"] == "Show S01E01.mkv"
    assert job["source_lang"] == "spa"  # normalised to ISO 639-2
    assert job["target_lang"] == "spa"
    assert job["quality_preset"] == "fast"
    assert job["priority"] == 7
    assert job["job_type"] == "transcription"
    assert job["transcribe_or_translate"] == "transcribe"
    assert job["progress"] == 0.0
    assert job["retry_count"] == 0
    assert job["created_at"].endswith("+00:00")
    for field in (
        "current_stage",
        "eta_seconds",
        "started_at",
        "completed_at",
        "output_path",
        "segments_count",
        "error",
        "error_code",
        "worker_id",
        "vram_used_mb",
        "processing_time_seconds",
        "model_used",
        "device_used",
    ):
        assert field in job and job[field] is None


async def test_default_preset_comes_from_settings(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    await client.put("/api/settings/default_quality_preset", json={"value": "best"})
    job = (await _create(client, media_file)).json()
    assert job["quality_preset"] == "best"


async def test_duplicate_is_409_naming_the_existing_job(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    first = (await _create(client, media_file)).json()
    again = await _create(client, media_file, target_lang="es")  # same language, other spelling
    assert again.status_code == 409
    assert first["id"] in again.json()["detail"]
    assert again.json()["code"] == "duplicate_job"
    other_target = await _create(client, media_file, target_lang="eng")
    assert other_target.status_code == 201
    # A translate to the same language writes the same file: the same output, one job.
    translate = await _create(client, media_file, transcribe_or_translate="translate")
    assert translate.status_code == 409 and translate.json()["code"] == "duplicate_job"
    assert first["id"] in translate.json()["detail"]
    tagged = await _create(client, media_file, transcribe_or_translate="translate", variant="x")
    assert tagged.status_code == 201, tagged.text  # another variant tag: another file


async def test_duplicate_allowed_again_after_cancel(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    first = (await _create(client, media_file)).json()
    assert (await client.delete(f"/api/jobs/{first['id']}")).status_code == 200
    assert (await _create(client, media_file)).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"file_path": "/nonexistent/file.mkv"}, 403, "outside the library"),
        ({"file_path": "MISSING"}, 400, "not found"),  # inside the library: may be told
        ({"file_path": "relative/file.mkv"}, 400, "absolute"),
        ({"quality_preset": "ultra"}, 400, "quality preset"),
        ({"target_lang": "notalanguage"}, 400, "target_lang"),
        ({"source_lang": "xx"}, 400, "source_lang"),
        ({"transcribe_or_translate": "summarise"}, 400, "transcribe_or_translate"),
    ],
)
async def test_bad_job_input(
    client: httpx.AsyncClient, media_file: Path, body: dict[str, str], status: int, needle: str
) -> None:
    payload = {"file_path": str(media_file), "target_lang": "spa", **body}
    if body.get("file_path") == "MISSING":
        payload["file_path"] = str(media_file.with_name("missing.mkv"))
    resp = await client.post("/api/jobs", json=payload)
    assert resp.status_code == status, resp.text
    assert needle in resp.json()["detail"]


async def test_directory_is_not_a_file(client: httpx.AsyncClient, tmp_path: Path) -> None:
    resp = await client.post("/api/jobs", json={"file_path": str(tmp_path), "target_lang": "eng"})
    assert resp.status_code == 400
    assert "Not a file" in resp.json()["detail"]


async def test_missing_required_field_is_422(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/jobs", json={"target_lang": "eng"})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "file_path"]


async def test_pagination_and_filter(client: httpx.AsyncClient, tmp_path: Path) -> None:
    ids = []
    for n in range(7):
        path = tmp_path / f"ep{n}.mkv"
        path.write_bytes(b"x")
        ids.append((await _create(client, path)).json()["id"])
    await client.post(f"/api/jobs/{ids[0]}/cancel")
    page1 = (await client.get("/api/jobs", params={"page": 1, "page_size": 3})).json()
    page3 = (await client.get("/api/jobs", params={"page": 3, "page_size": 3})).json()
    assert page1["total"] == 7 and len(page1["jobs"]) == 3 and page1["page_size"] == 3
    assert len(page3["jobs"]) == 1
    assert page1["jobs"][0]["id"] == ids[-1]  # newest first
    cancelled = (await client.get("/api/jobs", params={"status_filter": "cancelled"})).json()
    assert [j["id"] for j in cancelled["jobs"]] == [ids[0]]
    assert cancelled["total"] == 1


@pytest.mark.parametrize(
    "params",
    [{"page": 0}, {"page_size": 0}, {"page_size": 501}, {"status_filter": "done"}, {"page": "x"}],
)
async def test_bad_pagination_is_422(client: httpx.AsyncClient, params: dict[str, object]) -> None:
    resp = await client.get("/api/jobs", params=params)
    assert resp.status_code == 422
    assert isinstance(resp.json()["detail"], list)


async def test_get_missing_job_is_404(client: httpx.AsyncClient) -> None:
    for method, url in [
        ("GET", "/api/jobs/nope"),
        ("GET", "/api/jobs/nope/log"),
        ("DELETE", "/api/jobs/nope"),
        ("POST", "/api/jobs/nope/cancel"),
        ("POST", "/api/jobs/nope/retry"),
    ]:
        resp = await client.request(method, url)
        assert resp.status_code == 404, (method, url)
        assert resp.json()["detail"] == "Job nope not found"


async def test_cancel_and_terminal_states(client: httpx.AsyncClient, media_file: Path) -> None:
    job = (await _create(client, media_file)).json()
    resp = await client.delete(f"/api/jobs/{job['id']}")
    assert resp.json() == {"message": f"Job {job['id']} cancelled successfully"}
    again = await client.post(f"/api/jobs/{job['id']}/cancel")
    assert again.status_code == 400
    assert "cancelled" in again.json()["detail"]
    fetched = (await client.get(f"/api/jobs/{job['id']}")).json()
    assert fetched["status"] == "cancelled"
    assert fetched["completed_at"] is not None


async def test_cancel_processing_job(
    client: httpx.AsyncClient, daemon: Daemon, media_file: Path
) -> None:
    job = (await _create(client, media_file)).json()
    claimed = await daemon.queue.claim(worker_id="worker-cpu-0")
    assert claimed is not None and claimed.id == job["id"]
    assert (await client.post(f"/api/jobs/{job['id']}/cancel")).status_code == 200
    # The worker learns it lost the job on its next progress report.
    assert not await daemon.queue.report_progress(job["id"], worker_id="worker-cpu-0", progress=5)


async def test_retry_only_from_failed(
    client: httpx.AsyncClient, daemon: Daemon, media_file: Path
) -> None:
    job = (await _create(client, media_file)).json()
    not_failed = await client.post(f"/api/jobs/{job['id']}/retry")
    assert not_failed.status_code == 400
    assert "only a failed or cancelled job" in not_failed.json()["detail"]
    assert not_failed.json()["detail"].startswith(media_file.name)  # names the file, not an id
    await daemon.queue.claim(worker_id="w")
    await daemon.queue.fail(job["id"], worker_id="w", error="boom", error_code="engine_error")
    failed = (await client.get(f"/api/jobs/{job['id']}")).json()
    assert (failed["status"], failed["error_code"]) == ("failed", "engine_error")
    retried = await client.post(f"/api/jobs/{job['id']}/retry")
    assert retried.status_code == 200
    body = retried.json()
    assert (body["status"], body["retry_count"], body["error"]) == ("queued", 1, None)


async def test_retry_conflicts_with_a_newer_job(
    client: httpx.AsyncClient, daemon: Daemon, media_file: Path
) -> None:
    job = (await _create(client, media_file)).json()
    await daemon.queue.claim(worker_id="w")
    await daemon.queue.fail(job["id"], worker_id="w", error="boom", error_code="engine_error")
    newer = (await _create(client, media_file)).json()
    resp = await client.post(f"/api/jobs/{job['id']}/retry")
    assert resp.status_code == 409
    assert newer["id"] in resp.json()["detail"]


async def test_stats_and_clear(client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path) -> None:
    ids = []
    for n in range(4):
        path = tmp_path / f"m{n}.mkv"
        path.write_bytes(b"x")
        ids.append((await _create(client, path, priority=n)).json()["id"])
    for _ in range(2):
        job = await daemon.queue.claim(worker_id="w")
        assert job is not None
        await daemon.queue.complete(job.id, worker_id="w", output_path="/x.srt")
    await client.post(f"/api/jobs/{ids[0]}/cancel")
    stats = (await client.get("/api/jobs/stats")).json()
    assert stats == {
        "total_jobs": 4,
        "queued": 1,
        "processing": 0,
        "completed": 2,
        "failed": 0,
        "cancelled": 1,
    }
    cleared = await client.post("/api/jobs/queue/clear")
    assert cleared.json() == {"message": "Cleared 2 completed jobs"}
    after = (await client.get("/api/jobs/stats")).json()
    assert (after["total_jobs"], after["completed"]) == (2, 0)


async def test_priority_then_age_order(daemon: Daemon, tmp_path: Path) -> None:
    created = []
    for name, priority in [("a", 0), ("b", 5), ("c", 5), ("d", 1)]:
        path = tmp_path / f"{name}.mkv"
        path.write_bytes(b"x")
        job = await daemon.jobs.create(file_path=str(path), target_lang="eng", priority=priority)
        created.append(job.id)
    order = []
    while (job := await daemon.queue.claim(worker_id="w")) is not None:
        order.append(job.id)
    assert order == [created[1], created[2], created[3], created[0]]


async def test_job_log(client: httpx.AsyncClient, daemon: Daemon, media_file: Path) -> None:
    job = (await _create(client, media_file)).json()
    await daemon.queue.claim(worker_id="worker-cpu-0")
    await daemon.queue.log(job["id"], "model base on cpu (int8)")
    lines = (await client.get(f"/api/jobs/{job['id']}/log")).json()
    messages = [line["message"] for line in lines]
    assert messages[0].startswith("created: transcribe to spa")
    assert "claimed by worker-cpu-0" in messages
    assert messages[-1] == "model base on cpu (int8)"
    assert all(line["timestamp"].endswith("+00:00") for line in lines)
