"""Scan Rules API over a real daemon: CRUD as the spec, 409/404/422 with a detail, toggle, and a
preview (saved or unsaved rule) over a generated library that queues nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from subtitler.daemon import Daemon
from tests.mediagen import Library, make_library

RULE: dict[str, Any] = {
    "name": "Japanese anime without Spanish subs",
    "enabled": True,
    "priority": 10,
    "conditions": {
        "audio_language_is": "jpn",
        "missing_embedded_subtitle_lang": "spa",
        "missing_external_subtitle_lang": "spa",
        "file_extension": ".mkv,.mp4",
    },
    "action": {
        "action_type": "transcribe",
        "target_language": "spa",
        "quality_preset": "fast",
        "job_priority": 5,
        "diarize": None,  # speakers: None lets the diarization_enabled setting decide
    },
}


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return make_library(tmp_path_factory.mktemp("library"))


async def test_crud_as_the_spec(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/scan-rules", json=RULE)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["conditions"] == {
        "audio_language_is": "jpn",
        "audio_language_not": None,
        "audio_track_count_min": None,
        "has_embedded_subtitle_lang": None,
        "missing_embedded_subtitle_lang": "spa",
        "missing_external_subtitle_lang": "spa",
        "file_extension": ".mkv,.mp4",
    }
    assert rule["action"] == RULE["action"]
    assert rule["updated_at"] is None and rule["created_at"]
    rid = rule["id"]
    assert (await client.get(f"/api/scan-rules/{rid}")).json() == rule

    low = await client.post(
        "/api/scan-rules",
        json={"name": "German", "priority": 1, "enabled": False,
              "conditions": {"audio_language_is": "ger"}},
    )  # fmt: skip
    assert low.status_code == 201
    assert low.json()["conditions"]["audio_language_is"] == "deu"
    assert low.json()["action"]["action_type"] == "transcribe"
    listed = (await client.get("/api/scan-rules")).json()
    assert [r["name"] for r in listed] == [RULE["name"], "German"]  # priority desc
    enabled = (await client.get("/api/scan-rules", params={"enabled_only": True})).json()
    assert [r["id"] for r in enabled] == [rid]

    # partial update: only what is sent changes; conditions merge field by field
    put = await client.put(
        f"/api/scan-rules/{rid}",
        json={"priority": 20, "conditions": {"audio_language_not": "eng, French"}},
    )
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["priority"] == 20 and body["name"] == RULE["name"]
    assert body["conditions"]["audio_language_not"] == "eng,fra"
    assert body["conditions"]["audio_language_is"] == "jpn"
    assert body["updated_at"] is not None

    toggled = await client.post(f"/api/scan-rules/{rid}/toggle")
    assert toggled.status_code == 200 and toggled.json()["enabled"] is False
    again = await client.post(f"/api/scan-rules/{rid}/toggle")
    assert again.json()["enabled"] is True

    deleted = await client.delete(f"/api/scan-rules/{rid}")
    assert deleted.json() == {"message": f"Scan rule {rid} deleted successfully"}
    assert [r["name"] for r in (await client.get("/api/scan-rules")).json()] == ["German"]


async def test_conflicts_and_missing(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/scan-rules", json=RULE)).status_code == 201
    dup = await client.post("/api/scan-rules", json=RULE)
    assert dup.status_code == 409
    assert RULE["name"] in dup.json()["detail"]
    other = (await client.post("/api/scan-rules", json={**RULE, "name": "Other"})).json()
    rename = await client.put(f"/api/scan-rules/{other['id']}", json={"name": RULE["name"]})
    assert rename.status_code == 409 and RULE["name"] in rename.json()["detail"]
    for method, url in (
        ("GET", "/api/scan-rules/999"),
        ("PUT", "/api/scan-rules/999"),
        ("DELETE", "/api/scan-rules/999"),
        ("POST", "/api/scan-rules/999/toggle"),
        ("GET", "/api/scan-rules/999/preview"),
    ):
        resp = await client.request(method, url, json={"priority": 1} if method == "PUT" else None)
        assert resp.status_code == 404, (method, url, resp.text)
        assert resp.json()["detail"] == "Scan rule 999 not found"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"conditions": {"audio_language_is": "klingonese-ish"}}, "audio_language_is"),
        ({"conditions": {"audio_language_not": "eng,zz9"}}, "audio_language_not"),
        ({"action": {"action_type": "dance"}}, "action_type"),
        ({"action": {"quality_preset": "ultra"}}, "quality_preset"),
        ({"action": {"action_type": "translate", "target_language": None}}, "target_language"),
        ({"conditions": {"color": "red"}}, "color"),
        ({"conditions": {"audio_track_count_min": -1}}, "audio_track_count_min"),
        ({"name": "   "}, "name"),
        ({"priority": "high"}, "priority"),
    ],
)
async def test_invalid_rules_are_422_with_a_detail(
    client: httpx.AsyncClient, patch: dict[str, Any], field: str
) -> None:
    body = {**RULE, **patch}
    for key in ("conditions", "action"):
        if key in patch:
            body[key] = {**RULE[key], **patch[key]}
    created = await client.post("/api/scan-rules", json=body)
    assert created.status_code == 422, created.text
    detail = created.json()["detail"]
    assert isinstance(detail, str) and field in detail
    # the same mistake through PUT on a saved rule
    rid = (await client.post("/api/scan-rules", json={**RULE, "name": f"ok {field}"})).json()["id"]
    updated = await client.put(f"/api/scan-rules/{rid}", json=patch)
    assert updated.status_code == 422, updated.text
    assert isinstance(updated.json()["detail"], str) and field in updated.json()["detail"]
    assert (await client.get(f"/api/scan-rules/{rid}")).json()["action"] == RULE["action"]


async def test_preview_lists_matches_with_reasons_and_queues_nothing(
    client: httpx.AsyncClient, daemon: Daemon, lib: Library
) -> None:
    no_paths = await client.post("/api/scan-rules/preview", json=RULE)
    assert (
        no_paths.status_code == 400 and no_paths.json()["detail"] == "No library paths configured"
    )
    await daemon.settings.update("library_paths", [str(lib.root)])
    unsaved = {"conditions": {"audio_language_is": "jpn", "missing_embedded_subtitle_lang": "spa"},
               "action": {"target_language": "spa"}}  # fmt: skip
    resp = await client.post("/api/scan-rules/preview", json=unsaved)
    assert resp.status_code == 200, resp.text
    preview = resp.json()
    # E01 has jpn audio and no spa embedded subs (its .es.ass sidecar is external); E02 has spa.
    # Untagged audio (the untagged film, the podcast) matches pending detection (policy detect).
    assert preview["scanned_files"] == 6
    by_path = {f["file_path"]: f for f in preview["files"]}
    assert set(by_path) == {str(lib.media[k]) for k in ("anime_e1", "film_untagged", "podcast")}
    assert preview["total"] == 3
    pending = by_path[str(lib.media["film_untagged"])]["conditions"][0]
    assert (pending["condition"], pending["outcome"]) == ("audio_language_is", "pending")
    hit = by_path[str(lib.media["anime_e1"])]
    reasons = {c["condition"]: (c["outcome"], c["reason"]) for c in hit["conditions"]}
    assert reasons["audio_language_is"] == ("pass", "audio track #0 is jpn")
    assert reasons["missing_embedded_subtitle_lang"][0] == "pass"
    assert hit["job"]["target_lang"] == "spa" and hit["job"]["source_lang"] == "jpn"

    # a saved rule, paginated: untagged audio matches pending detection (policy detect)
    saved = (
        await client.post(
            "/api/scan-rules",
            json={"name": "All mkv", "conditions": {"file_extension": "mkv"},
                  "action": {"target_language": "eng"}},
        )
    ).json()  # fmt: skip
    page1 = (await client.get(f"/api/scan-rules/{saved['id']}/preview?page_size=2")).json()
    page2 = (await client.get(f"/api/scan-rules/{saved['id']}/preview?page=2&page_size=2")).json()
    assert page1["total"] == page2["total"] == 4  # E01, E02, Untagged Film, Image Subs
    assert len(page1["files"]) == len(page2["files"]) == 2
    names = [f["file_name"] for f in page1["files"] + page2["files"]]
    assert len(names) == len(set(names)) == 4 and all(n.endswith(".mkv") for n in names)
    assert page1["rule"]["id"] == saved["id"]
    stats = (await client.get("/api/jobs/stats")).json()
    assert stats["total_jobs"] == 0  # a preview never queues

    # show=all: the files the rule does not match too, each with the failed condition
    every = (await client.post("/api/scan-rules/preview?show=all", json=unsaved)).json()
    assert every["total"] == 6 and every["matched_files"] == 3
    misses = [f for f in every["files"] if not f["matched"]]
    assert len(misses) == 3 and all(f["job"] is None for f in misses)
    assert all(any(c["outcome"] == "fail" for c in f["conditions"]) for f in misses)
    paged = (
        await client.post("/api/scan-rules/preview?show=all&page=2&page_size=4", json=unsaved)
    ).json()
    assert len(paged["files"]) == 2 and paged["page"] == 2


async def test_preview_with_an_invalid_body_is_422(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    await daemon.settings.update("library_paths", [str(tmp_path)])
    resp = await client.post(
        "/api/scan-rules/preview", json={"conditions": {"audio_language_is": "nope-nope"}}
    )
    assert resp.status_code == 422 and "audio_language_is" in resp.json()["detail"]
    empty = await client.post("/api/scan-rules/preview", json={})
    assert empty.status_code == 200 and empty.json()["total"] == 0
