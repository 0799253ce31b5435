"""Issue 18: the Library is the truth. Real SQLite daemon, real media (ffmpeg), the queue driven
like a worker would: a file that got our subtitle reads Done (and the Done filter counts it),
untagged audio detected as another language than the rule wants is a skip with the reason (not
a failure, never re-queued), rows follow job events, the rule preview names the winning rule."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from subtitler.daemon import Daemon
from subtitler.subtitles.registry import WrittenSubtitles
from tests.mediagen import Audio, Spec, make_media, write_srt

EVERYTHING = {  # the wizard's default rule
    "name": "Subtitles for everything",
    "priority": 0,
    "conditions": {"missing_external_subtitle_lang": "eng"},
    "action": {"action_type": "transcribe", "target_language": "eng", "quality_preset": "fast"},
}
ENGLISH_AUDIO = {
    "name": "English audio",
    "priority": 5,
    "conditions": {"audio_language_is": "eng", "missing_external_subtitle_lang": "eng"},
    "action": {"action_type": "transcribe", "target_language": "eng"},
}


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    make_media(root / "Tagged.mkv", Spec(audio=(Audio(language="eng"),)))
    make_media(root / "Untagged.mkv", Spec(audio=(Audio(),)))
    make_media(root / "Users.mkv", Spec(audio=(Audio(language="eng"),)))
    write_srt(root / "Users.en.srt")
    return root


async def _rows(client: httpx.AsyncClient, **params: Any) -> dict[str, dict[str, Any]]:
    body = (await client.get("/api/library", params=params)).json()
    return {i["name"]: i for i in body["items"]}


async def _until(client: httpx.AsyncClient, name: str, verdict: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        row = (await _rows(client))[name]
        if row["verdict"] == verdict or time.monotonic() > deadline:
            return row
        await asyncio.sleep(0.05)


async def test_library_verdicts_follow_the_jobs(
    client: httpx.AsyncClient, daemon: Daemon, lib: Path
) -> None:
    assert (await client.put("/api/settings/library_paths", json={"value": [str(lib)]})).is_success
    for rule in (EVERYTHING, ENGLISH_AUDIO):
        assert (await client.post("/api/scan-rules", json=rule)).status_code == 201

    # the preview of the wizard's rule: it matches two files, but the higher-priority rule
    # takes both outputs, exactly as the scan decides
    preview = (await client.post("/api/scan-rules/preview", json=EVERYTHING)).json()
    assert preview["matched_files"] == 2 and preview["would_queue"] == 0
    assert {f["winning_rule_name"] for f in preview["files"]} == {"English audio"}
    assert all(f["job"] is None for f in preview["files"])

    scan = (await client.post("/api/scanner/scan", json={})).json()
    assert scan["jobs_created"] == 2
    rows = await _rows(client)
    assert rows["Tagged.mkv"]["verdict"] == "wanted"
    assert rows["Tagged.mkv"]["last_job"]["status"] == "queued"
    users = rows["Users.mkv"]
    assert users["verdict"] == "no_match" and users["subtitles"]["external"] == ["eng"]

    rules = {r["name"]: r["id"] for r in (await client.get("/api/scan-rules")).json()}
    toggled = await client.post(f"/api/scan-rules/{rules[EVERYTHING['name']]}/toggle")
    assert toggled.json()["enabled"] is False  # only "English audio" for now
    events = daemon.bus.subscribe({"library_updated"})
    jobs = {}
    for _ in range(2):
        job = await daemon.queue.claim(worker_id="w1")
        assert job is not None
        jobs[Path(job.file_path).name] = job

    # Tagged: our subtitle written, job completed -> Done, counted by the Done filter
    tagged = jobs["Tagged.mkv"]
    sub = write_srt(lib / "Tagged.eng.srt")
    await WrittenSubtitles(daemon.db).record(
        path=str(sub), sha256=hashlib.sha256(sub.read_bytes()).hexdigest(), job_id=tagged.id,
        media_path=tagged.file_path, language="eng",
    )  # fmt: skip
    assert (await _until(client, "Tagged.mkv", "wanted"))["last_job"]["status"] == "processing"
    await daemon.queue.complete(tagged.id, worker_id="w1", source_lang="eng")
    row = await _until(client, "Tagged.mkv", "done")
    assert row["verdict"] == "done" and row["subtitles"]["ours"] == ["eng"]
    event = await events.get(5)
    assert event is not None and tagged.file_path in event.data["paths"]
    done = (await client.get("/api/library", params={"status": "done"})).json()
    assert [i["name"] for i in done["items"]] == ["Tagged.mkv"] and done["total"] == 1

    # Untagged: the worker detected German for an "English audio" rule -> a skip, with the
    # reason and the detected language on the file; not counted as failed
    untagged = jobs["Untagged.mkv"]
    await daemon.queue.fail(
        untagged.id, worker_id="w1", error="the audio is deu, but rule 'English audio' is for eng",
        error_code="rule_language_mismatch", source_lang="deu",
    )  # fmt: skip
    row = await _until(client, "Untagged.mkv", "no_match")
    assert row["verdict"] == "no_match" and "deu" in row["reason"]
    assert row["detected_languages"] == ["deu"] and row["audio_languages"] == []
    assert row["last_job"]["skipped"] is True
    assert (await client.get("/api/library", params={"status": "failed"})).json()["total"] == 0
    skipped = await _rows(client, status="skipped")
    assert {"Untagged.mkv", "Users.mkv"} <= set(skipped)

    # a rescan agrees with all of it and queues nothing again
    again = (await client.post("/api/scanner/scan", json={})).json()
    assert again["jobs_created"] == 0
    rows = await _rows(client)
    assert rows["Tagged.mkv"]["verdict"] == "done"
    assert rows["Untagged.mkv"]["verdict"] == "no_match"
    assert rows["Untagged.mkv"]["detected_languages"] == ["deu"]
    events.close()

    # the rule for every language back on: the German file is wanted by it, as German audio
    await client.post(f"/api/scan-rules/{rules[EVERYTHING['name']]}/toggle")
    last = (await client.post("/api/scanner/scan", json={})).json()
    assert last["jobs_created"] == 1
    rows = await _rows(client)
    assert rows["Untagged.mkv"]["verdict"] == "wanted"
    assert rows["Untagged.mkv"]["rule_name"] == EVERYTHING["name"]
    assert rows["Tagged.mkv"]["verdict"] == "done"
    listed = (await client.get("/api/jobs")).json()["jobs"]
    items = [j for j in listed if j["status"] == "queued"]
    assert [(j["file_name"], j["source_lang"]) for j in items] == [("Untagged.mkv", "deu")]


async def test_stop_ignoring_a_folder(client: httpx.AsyncClient, lib: Path) -> None:
    folder = lib / "Old"
    make_media(folder / "Old.mkv", Spec(audio=(Audio(language="eng"),)))
    assert (await client.put("/api/settings/library_paths", json={"value": [str(lib)]})).is_success
    await client.post("/api/scanner/scan", json={})
    r = await client.post("/api/library/ignore-folder", json={"folder": str(folder)})
    assert r.status_code == 200 and (folder / ".subtitlerignore").is_file()
    assert (await _rows(client))["Old.mkv"]["ignored"] is True
    # a rescan does not walk the ignored folder, yet keeps listing its files (as ignored)
    await client.post("/api/scanner/scan", json={})
    ignored = await _rows(client, status="ignored")
    assert list(ignored) == ["Old.mkv"] and ignored["Old.mkv"]["verdict"] == "ignored"
    r = await client.post("/api/library/unignore-folder", json={"folder": str(folder)})
    assert r.status_code == 200, r.text
    assert r.json() == {"marker": str(folder / ".subtitlerignore"), "files": 1}
    assert not (folder / ".subtitlerignore").exists()
    assert (await _rows(client))["Old.mkv"]["ignored"] is False
    outside = await client.post("/api/library/unignore-folder", json={"folder": "/etc"})
    assert outside.status_code == 400 and outside.json()["code"] == "outside_library"


async def test_subtitle_now_asks_before_a_second_subtitle_and_refuses_unreadable_files(
    client: httpx.AsyncClient, lib: Path
) -> None:
    (lib / "Broken.mkv").write_bytes(b"\x00" * 4096)  # not a video: the scan cannot read it
    assert (await client.put("/api/settings/library_paths", json={"value": [str(lib)]})).is_success
    await client.post("/api/scanner/scan", json={})
    rows = await _rows(client)
    users, broken = rows["Users.mkv"], rows["Broken.mkv"]
    assert users["subtitles"]["external"] == ["eng"] and broken["verdict"] == "probe_failed"

    asked = await client.post(
        "/api/library/actions", json={"action": "subtitle", "paths": [users["path"]]}
    )
    assert asked.status_code == 409, asked.text
    assert asked.json()["code"] == "subtitle_exists"
    assert "already has a subtitle in English (beside it)" in asked.json()["detail"]
    assert (await _rows(client))["Users.mkv"]["last_job"] is None  # nothing written, nothing queued
    # another language is no conflict; the preset chosen is the job's
    spanish = await client.post(
        "/api/library/actions",
        json={"action": "subtitle", "paths": [users["path"]], "target_language": "es",
              "quality_preset": "fast"},
    )  # fmt: skip
    assert spanish.status_code == 200 and spanish.json()["affected"] == 1
    jobs = (await client.get("/api/jobs")).json()["jobs"]
    assert [(j["target_lang"], j["quality_preset"]) for j in jobs] == [("spa", "fast")]
    confirmed = await client.post(
        "/api/library/actions",
        json={"action": "subtitle", "paths": [users["path"]], "also_when_present": True},
    )
    assert confirmed.status_code == 200 and confirmed.json()["affected"] == 1

    refused = await client.post(
        "/api/library/actions", json={"action": "subtitle", "paths": [broken["path"]]}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "media_unreadable"
    assert "Broken.mkv cannot be read" in refused.json()["detail"]
    # in a selection of several, each refusal is reported per file
    both = await client.post(
        "/api/library/actions",
        json={"action": "subtitle", "paths": [broken["path"], rows["Tagged.mkv"]["path"]]},
    )
    body = both.json()
    assert body["affected"] == 1 and [e["code"] for e in body["errors"]] == ["media_unreadable"]


async def test_system_tasks_show_the_last_scan_whoever_started_it(
    client: httpx.AsyncClient, lib: Path
) -> None:
    assert (await client.put("/api/settings/library_paths", json={"value": [str(lib)]})).is_success
    for _ in range(2):
        assert (await client.post("/api/scanner/scan", json={})).status_code == 200
    tasks = {t["name"]: t for t in (await client.get("/api/system/tasks")).json()["tasks"]}
    scan = tasks["scan"]
    status = (await client.get("/api/scanner/status")).json()
    assert scan["last_run"] == status["last_scan_time"] and scan["last_ok"] is True
    assert scan["last_result"] == "3 files, 0 jobs created (manual)"
