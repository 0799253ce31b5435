"""Queue control and the integrator API without workers: PATCH priority, bulk actions, clear by
status, list filters, Idempotency-Key, capabilities, /metrics, the OpenAPI document."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from subtitler.daemon import Daemon
from subtitler.errors import SubtitlerError


async def _create(client: httpx.AsyncClient, media: Path, **extra: Any) -> httpx.Response:
    body = {"file_path": str(media), "target_lang": "spa", **extra}
    return await client.post("/api/jobs", json=body)


async def _three(client: httpx.AsyncClient, media: Path) -> list[dict[str, Any]]:
    jobs = []
    for lang in ("spa", "fra", "deu"):
        resp = await _create(client, media, target_lang=lang)
        assert resp.status_code == 201, resp.text
        jobs.append(resp.json())
    return jobs


async def test_create_records_channel_options_and_callback(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    # a loopback callback only with the setting on (issue 19's SSRF guard)
    loop = await _create(client, media_file, callback_url="http://127.0.0.1:9/hook")
    assert loop.status_code == 400 and loop.json()["code"] == "url_not_allowed"
    on = {"value": True}
    assert (await client.put("/api/settings/callback_allow_loopback", json=on)).status_code == 200
    resp = await _create(
        client, media_file, output_format="vtt", model="tiny.en", initial_prompt="Names: Zorg.",
        vad_filter=False, word_timestamps=True, callback_url="http://127.0.0.1:9/hook",
        channel="ui",
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    job = resp.json()
    assert (job["channel"], job["output_format"], job["callback_url"]) == (
        "ui",
        "vtt",
        "http://127.0.0.1:9/hook",
    )
    assert job["request_options"] == {
        "model": "tiny.en", "initial_prompt": "Names: Zorg.", "vad_filter": False,
        "word_timestamps": True,
    }  # fmt: skip
    assert job["created_at"].endswith("+00:00")
    for bad in ({"callback_url": "ftp://x/y"}, {"output_format": "doc"}, {"channel": "scan"}):
        assert (await _create(client, media_file, target_lang="fra", **bad)).status_code == 422


async def test_patch_priority_only_while_queued(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    job = (await _create(client, media_file)).json()
    resp = await client.patch(f"/api/jobs/{job['id']}", json={"priority": 7})
    assert resp.status_code == 200 and resp.json()["priority"] == 7
    log = (await client.get(f"/api/jobs/{job['id']}/log")).json()
    assert any("priority set to 7" in line["message"] for line in log)
    assert (
        await client.patch(f"/api/jobs/{job['id']}", json={"priority": 5000})
    ).status_code == 422
    assert (await client.patch(f"/api/jobs/{job['id']}", json={"status": "x"})).status_code == 422
    await client.delete(f"/api/jobs/{job['id']}")
    late = await client.patch(f"/api/jobs/{job['id']}", json={"priority": 1})
    assert late.status_code == 409 and late.json()["code"] == "job_not_queued"
    missing = await client.patch("/api/jobs/nope", json={"priority": 1})
    assert missing.status_code == 404


async def test_bulk_actions_by_ids_and_by_filter(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    jobs = await _three(client, media_file)
    ids = [j["id"] for j in jobs]
    resp = await client.post(
        "/api/jobs/bulk", json={"action": "priority", "ids": [*ids[:2], "missing"], "priority": 9}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert (body["matched"], body["affected"]) == (2, 2)
    assert body["errors"] == [{"id": "missing", "detail": "Job missing not found"}]
    listed = (await client.get("/api/jobs", params={"sort": "priority", "order": "desc"})).json()
    assert [j["priority"] for j in listed["jobs"]] == [9, 9, 0]

    refused = (await client.post("/api/jobs/bulk", json={"action": "remove", "ids": ids})).json()
    assert refused["affected"] == 0 and len(refused["errors"]) == 3  # queued: cancel first

    cancel = await client.post(
        "/api/jobs/bulk", json={"action": "cancel", "filter": {"channel": "api", "q": "S01E01"}}
    )
    assert cancel.json()["affected"] == 3
    retry = await client.post("/api/jobs/bulk", json={"action": "retry", "ids": ids})
    assert retry.json()["affected"] == 3  # a cancel can be taken back (issue 18)
    again = await client.post("/api/jobs/bulk", json={"action": "retry", "ids": ids})
    assert again.json()["affected"] == 0 and len(again.json()["errors"]) == 3  # queued now
    cancel = await client.post("/api/jobs/bulk", json={"action": "cancel", "ids": ids})
    assert cancel.json()["affected"] == 3

    removed = await client.post(
        "/api/jobs/bulk", json={"action": "remove", "filter": {"status": "cancelled"}}
    )
    assert removed.json() == {"action": "remove", "matched": 3, "affected": 3, "errors": []}
    assert (await client.get("/api/jobs")).json()["total"] == 0

    for bad in (
        {"action": "explode", "ids": ids},
        {"action": "priority", "ids": ids},  # no priority
        {"action": "cancel"},  # neither ids nor filter
        {"action": "cancel", "ids": ids, "filter": {}},
    ):
        resp = await client.post("/api/jobs/bulk", json=bad)
        assert resp.status_code in (400, 422), bad
        assert "detail" in resp.json()


async def test_clear_by_status_keeps_live_jobs(
    client: httpx.AsyncClient, media_file: Path, daemon: Daemon
) -> None:
    jobs = await _three(client, media_file)
    await client.delete(f"/api/jobs/{jobs[0]['id']}")
    cleared = await client.post("/api/jobs/queue/clear", params={"status": ["cancelled", "failed"]})
    assert cleared.status_code == 200 and "Cleared 1" in cleared.json()["message"]
    assert (await client.get("/api/jobs")).json()["total"] == 2
    refused = await client.post("/api/jobs/queue/clear", params={"status": "queued"})
    assert refused.status_code == 422
    stats = (await client.get("/api/jobs/stats")).json()
    assert (stats["queued"], stats["cancelled"]) == (2, 0)


async def test_list_filters_and_sorts(client: httpx.AsyncClient, media_file: Path) -> None:
    jobs = await _three(client, media_file)
    other = media_file.with_name("Another Film.mkv")
    other.write_bytes(b"x")
    (await _create(client, other, target_lang="ita", channel="ui")).json()

    async def ids(**params: Any) -> list[str]:
        body = (await client.get("/api/jobs", params=params)).json()
        assert body["total"] == len(body["jobs"])
        return [j["file_name"] + ":" + j["target_lang"] for j in body["jobs"]]

    assert await ids(channel="ui") == ["Another Film.mkv:ita"]
    assert await ids(q="another") == ["Another Film.mkv:ita"]
    assert await ids(language="fr") == ["Show S01E01.mkv:fra"]
    assert len(await ids(q="100%_")) == 0  # LIKE wildcards are literal
    by_name = await ids(sort="file_name", order="asc")
    assert by_name[0].startswith("Another")
    assert len(await ids(channel="api", status_filter="queued")) == len(jobs)
    assert (await client.get("/api/jobs", params={"sort": "nope"})).status_code == 422


async def test_idempotency_key_replays_and_refuses_another_body(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await _create(client, media_file)
    assert first.status_code == 201
    await client.delete(f"/api/jobs/{first.json()['id']}")
    one = await client.post(
        "/api/jobs", json={"file_path": str(media_file), "target_lang": "fra"}, headers=headers
    )
    again = await client.post(
        "/api/jobs", json={"file_path": str(media_file), "target_lang": "fra"}, headers=headers
    )
    assert one.status_code == again.status_code == 201
    assert one.json() == again.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert (await client.get("/api/jobs")).json()["total"] == 2  # one new job, not two
    other = await client.post(
        "/api/jobs", json={"file_path": str(media_file), "target_lang": "deu"}, headers=headers
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    without = await _create(client, media_file, target_lang="fra")
    assert without.status_code == 409  # no key: the dedupe answers


async def test_redo_and_results_need_a_completed_job(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    job = (await _create(client, media_file)).json()
    redo = await client.post(f"/api/jobs/{job['id']}/redo", json={"quality_preset": "best"})
    assert redo.status_code == 409 and redo.json()["code"] == "job_not_completed"
    sub = await client.get(f"/api/jobs/{job['id']}/subtitle", params={"format": "srt"})
    assert sub.status_code == 404 and sub.json()["code"] == "subtitle_not_found"
    assert (await client.get(f"/api/jobs/{job['id']}/segments")).status_code == 404
    bad = await client.get(f"/api/jobs/{job['id']}/subtitle", params={"format": "doc"})
    assert bad.status_code == 422
    assert (await client.get("/api/jobs/missing/segments")).json()["code"] == "job_not_found"


async def test_capabilities(client: httpx.AsyncClient) -> None:
    caps = (await client.get("/api/capabilities")).json()
    assert caps["version"]
    assert {p["name"] for p in caps["presets"]} == {"fast", "balanced", "best"}
    assert caps["output_formats"] == ["srt", "vtt", "ass", "lrc", "txt", "json"]
    assert "en" in caps["asr_languages"] and len(caps["asr_languages"]) > 90
    assert caps["devices"][0]["type"] == "cpu"
    assert "tiny.en" in {m["name"] for m in caps["models"]}
    assert caps["limits"]["max_page_size"] == 500
    assert set(caps["token_scopes"]) == {"admin", "asr"}


async def test_capabilities_read_the_limits_and_providers_in_force(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    import os
    import shutil

    from subtitler.security.limits import check_worker_count

    caps = (await client.get("/api/capabilities")).json()
    cap = caps["limits"]["max_workers"]
    assert cap == 2 * (os.cpu_count() or 1)  # max_workers 0: twice the cores, as enforced
    check_worker_count(cap, daemon.settings.get)
    with pytest.raises(SubtitlerError, match="at most"):
        check_worker_count(cap + 1, daemon.settings.get)  # the next one is refused
    assert caps["limits"]["max_upload_bytes"] == 4096 * 1024 * 1024
    await daemon.settings.bulk_update({"max_workers": 4, "max_upload_mib": 100})
    limits = (await client.get("/api/capabilities")).json()["limits"]
    assert limits["max_workers"] == 4 and limits["max_upload_bytes"] == 100 * 1024 * 1024
    assert caps["translation_targets"][0] == "eng" and not caps["translation_any_target"]
    if shutil.which("apertium") and caps.get("translation_targets"):
        status = (await client.get("/api/translation/providers")).json()
        offered = {p["target"] for p in status["pairs"]}
        assert offered <= set(caps["translation_targets"])  # eng->spa via apertium: spa listed
    await daemon.settings.bulk_update({"translation_provider": "deepl", "deepl_api_key": "k"})
    caps = (await client.get("/api/capabilities")).json()
    assert caps["translation_any_target"] and caps["translation_targets"] == ["eng"]


async def test_metrics_parse_as_prometheus(client: httpx.AsyncClient, media_file: Path) -> None:
    await _three(client, media_file)
    resp = await client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(resp.text)}
    jobs = {
        (s.labels["status"], s.labels["channel"]): s.value
        for s in families["subtitler_jobs"].samples
    }
    assert jobs == {("queued", "api"): 3.0}
    assert families["subtitler_queue_depth"].samples[0].value == 3.0
    assert families["subtitler_oldest_queued_job_age_seconds"].samples[0].value >= 0.0
    for name in (
        "subtitler_job_duration_seconds", "subtitler_job_realtime_factor",
        "subtitler_scan_duration_seconds", "subtitler_asr_requests", "subtitler_workers",
    ):  # fmt: skip
        assert name in families, name


async def test_unknown_paths_are_json_404(client: httpx.AsyncClient) -> None:
    for path in ("/api/nothing", "/v1/nothing", "/nothing-at-all"):
        resp = await client.get(path)
        assert resp.status_code == 404
        assert resp.headers["content-type"] == "application/json", path


async def test_openapi_declares_errors_uploads_and_new_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    new_routes = (
        "/api/jobs/bulk", "/api/jobs/{job_id}/redo", "/api/jobs/{job_id}/subtitle",
        "/api/jobs/{job_id}/segments", "/api/tokens", "/api/capabilities", "/metrics",
    )  # fmt: skip
    for route in new_routes:
        assert route in paths, route
    assert "patch" in paths["/api/jobs/{job_id}"]
    for path, ops in paths.items():
        for method, op in ops.items():
            assert "404" in op["responses"] and "401" in op["responses"], (method, path)
            schema = op["responses"]["404"]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorOut"), (method, path)
    for path in ("/asr", "/detect-language", "/v1/audio/transcriptions", "/v1/audio/translations"):
        body = paths[path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert any(p.get("format") == "binary" for p in body["properties"].values()), path


async def test_scan_rule_timestamps_are_timezone_aware(client: httpx.AsyncClient) -> None:
    rule = {"name": "tz", "action": {"target_language": "eng"}}
    created = (await client.post("/api/scan-rules", json=rule)).json()
    updated = (await client.post(f"/api/scan-rules/{created['id']}/toggle")).json()
    for stamp in (created["created_at"], updated["created_at"], updated["updated_at"]):
        assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0), stamp
