"""Issue 13's API: the library index (kept by scans), subtitle history, system warnings and
tasks, logs, the event-stream token and the wizard re-run."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import httpx
import pysubs2
import pytest

from subtitler.daemon import Daemon
from subtitler.subtitles.registry import WrittenSubtitles
from tests.mediagen import Audio, Spec, Sub, make_media, write_srt


@pytest.fixture
def small_lib(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    make_media(
        root / "Show" / "Season 01" / "Show S01E01.mkv", Spec(audio=(Audio(language="eng"),))
    )
    make_media(
        root / "Show" / "Season 01" / "Show S01E02.mkv",
        Spec(audio=(Audio(language="eng"),), subs=(Sub(language="eng"),)),
    )
    make_media(root / "Films" / "Film.mkv", Spec(audio=(Audio(language="spa"),)))
    write_srt(root / "Films" / "Film.fr.srt")
    return root


async def _setup(client: httpx.AsyncClient, root: Path) -> None:
    r = await client.put("/api/settings/library_paths", json={"value": [str(root)]})
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/scan-rules",
        json={
            "name": "English audio without English subtitles",
            "conditions": {
                "audio_language_is": "eng",
                "missing_embedded_subtitle_lang": "eng",
            },
            "action": {"action_type": "transcribe"},
        },
    )
    assert r.status_code == 201, r.text
    r = await client.post("/api/scanner/scan", json={})
    assert r.status_code == 200, r.text


async def test_library_index_filters_sort_and_actions(
    client: httpx.AsyncClient, small_lib: Path
) -> None:
    await _setup(client, small_lib)
    body = (await client.get("/api/library", params={"sort": "name"})).json()
    assert body["total"] == 3
    by_name = {i["name"]: i for i in body["items"]}
    assert [i["name"] for i in body["items"]] == sorted(by_name)
    e1 = by_name["Show S01E01.mkv"]
    assert e1["audio_languages"] == ["eng"]
    assert e1["verdict"] == "wanted"
    assert e1["series"] == "Show" and e1["season"] == 1
    assert e1["last_job"]["status"] == "queued"
    e2 = by_name["Show S01E02.mkv"]
    assert e2["subtitles"]["embedded"] == ["eng"]
    assert e2["verdict"] == "no_match" and "eng" in (e2["reason"] or "")
    film = by_name["Film.mkv"]
    assert film["subtitles"]["external"] == ["fra"]
    assert film["verdict"] == "no_match"

    missing = (await client.get("/api/library", params={"missing": "en"})).json()
    assert {i["name"] for i in missing["items"]} == {"Show S01E01.mkv", "Film.mkv"}
    missing_fr = (await client.get("/api/library", params={"missing": "fr"})).json()
    assert "Film.mkv" not in {i["name"] for i in missing_fr["items"]}
    found = (await client.get("/api/library", params={"q": "films"})).json()
    assert [i["name"] for i in found["items"]] == ["Film.mkv"]
    skipped = (await client.get("/api/library", params={"status": "skipped"})).json()
    assert skipped["total"] == 2
    page2 = (await client.get("/api/library", params={"page": 2, "page_size": 2})).json()
    assert page2["total"] == 3 and len(page2["items"]) == 1
    desc = (await client.get("/api/library", params={"sort": "size", "order": "desc"})).json()
    sizes = [i["size"] for i in desc["items"]]
    assert sizes == sorted(sizes, reverse=True)
    bad = await client.get("/api/library", params={"sort": "nope"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_sort"
    assert (await client.get("/api/library", params={"missing": "xx-nope"})).status_code == 400

    # subtitle now on a selection: one job per file, manual priority
    film_path = film["path"]
    r = await client.post("/api/library/actions", json={"action": "subtitle", "paths": [film_path]})
    assert r.status_code == 200, r.text
    assert r.json()["affected"] == 1
    film_now = (await client.get("/api/library", params={"q": "Film.mkv"})).json()["items"][0]
    assert film_now["last_job"]["status"] == "queued"
    # again: a duplicate is reported per file, not a failure of the whole call
    again = (
        await client.post("/api/library/actions", json={"action": "subtitle", "paths": [film_path]})
    ).json()
    assert again["affected"] == 0 and len(again["errors"]) == 1
    unknown = await client.post(
        "/api/library/actions", json={"action": "subtitle", "paths": ["/nope.mkv"]}
    )
    assert unknown.status_code == 400

    # ignore by filter: the index keeps the flag across a rescan, and scans skip the file
    r = await client.post(
        "/api/library/actions", json={"action": "ignore", "filter": {"q": "S01E01"}}
    )
    assert r.json()["affected"] == 1
    await client.post("/api/scanner/scan", json={})
    ignored = (await client.get("/api/library", params={"status": "ignored"})).json()
    assert [i["name"] for i in ignored["items"]] == ["Show S01E01.mkv"]
    assert ignored["items"][0]["verdict"] == "ignored"

    # ignore a folder: writes .subtitlerignore
    r = await client.post("/api/library/ignore-folder", json={"folder": str(small_lib / "Films")})
    assert r.status_code == 200, r.text
    assert (small_lib / "Films" / ".subtitlerignore").is_file()
    outside = await client.post("/api/library/ignore-folder", json={"folder": "/tmp"})
    assert outside.status_code == 400
    dotdot = await client.post(
        "/api/library/ignore-folder", json={"folder": f"{small_lib}/Films/../.."}
    )
    assert dotdot.status_code == 400 and dotdot.json()["code"] == "outside_library"


async def test_subtitle_history_preview_download_delete(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    video = tmp_path / "v" / "Movie.mkv"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"x")
    sub = video.with_name("Movie.en.srt")
    text = (
        "1\n00:00:01,000 --> 00:00:02,500\nHello there\n\n2\n00:00:03,000 --> 00:00:04,000\nBye\n\n"
    )
    sub.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(sub.read_bytes()).hexdigest()
    registry = WrittenSubtitles(daemon.db)
    await registry.record(
        path=str(sub), sha256=sha, job_id="j1", media_path=str(video), language="eng"
    )
    changed = video.with_name("Movie.es.srt")
    changed.write_text(text, encoding="utf-8")
    await registry.record(
        path=str(changed), sha256="0" * 64, job_id="j2", media_path=str(video), language="spa"
    )
    body = (await client.get("/api/subtitles", params={"language": "en"})).json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["subtitle_path"] == str(sub) and item["video_path"] == str(video)
    assert item["format"] == "srt" and item["exists"] is True and item["job_id"] == "j1"
    assert (await client.get("/api/subtitles", params={"q": "Movie"})).json()["total"] == 2

    preview = (await client.get(f"/api/subtitles/{item['id']}/preview")).json()
    assert preview["cues"][0] == {"start": 1.0, "end": 2.5, "text": "Hello there"}
    assert preview["total_cues"] == 2
    dl = await client.get(f"/api/subtitles/{item['id']}/download")
    assert dl.status_code == 200
    assert "attachment" in dl.headers["content-disposition"]
    parsed = pysubs2.SSAFile.from_string(dl.text, format_="srt")
    assert [e.plaintext for e in parsed] == ["Hello there", "Bye"]

    # a file changed since we wrote it is not deleted
    es = (await client.get("/api/subtitles", params={"language": "spa"})).json()["items"][0]
    r = await client.delete(f"/api/subtitles/{es['id']}")
    assert r.status_code == 409 and changed.is_file()
    r = await client.delete(f"/api/subtitles/{item['id']}")
    assert r.status_code == 200 and r.json()["deleted_file"] is True
    assert not sub.exists()
    assert (await client.get(f"/api/subtitles/{item['id']}")).status_code == 404


async def test_system_warnings_tasks_and_logs(
    client: httpx.AsyncClient, daemon: Daemon, media_file: Path
) -> None:
    r = await client.post("/api/jobs", json={"file_path": str(media_file), "target_lang": "eng"})
    assert r.status_code == 201
    warnings = (await client.get("/api/system/warnings")).json()["warnings"]
    codes = {w["code"] for w in warnings}
    assert "no_workers" in codes  # the test daemon starts no workers

    tasks = {t["name"]: t for t in (await client.get("/api/system/tasks")).json()["tasks"]}
    assert set(tasks) == {"scan", "rescan", "backup", "cleanup"}
    r = await client.post("/api/system/tasks/backup/run")
    assert r.status_code == 202
    await daemon.tasks.wait("backup")
    backup = next(
        t for t in (await client.get("/api/system/tasks")).json()["tasks"] if t["name"] == "backup"
    )
    assert backup["last_ok"] is True and backup["last_run"]
    assert (await client.post("/api/system/tasks/nope/run")).status_code == 404

    logging.getLogger("subtitler.test").warning("a line for the logs page %s", media_file.name)
    root = logging.getLogger()
    for handler in root.handlers:
        handler.flush()
    logs = (await client.get("/api/logs", params={"level": "WARNING"})).json()
    assert any("a line for the logs page" in ln["message"] for ln in logs["lines"])
    assert all(ln["level"] in ("WARNING", "ERROR", "CRITICAL") for ln in logs["lines"])
    more = (await client.get("/api/logs", params={"after": logs["offset"]})).json()
    assert more["lines"] == []
    dl = await client.get("/api/logs/download")
    assert dl.status_code == 200 and "a line for the logs page" in dl.text

    specs = {s["key"]: s for s in (await client.get("/api/system/setting-specs")).json()["specs"]}
    assert specs["setup_completed"]["internal"] and specs["scanner_total_scans"]["internal"]
    assert specs["auth_mode"]["choices"]
    check = (await client.get("/api/system/check-path", params={"path": "/nonexistent/x"})).json()
    assert check["exists"] is False


async def test_event_stream_token_instead_of_the_key(daemon: Daemon) -> None:
    from subtitler.api import create_app

    await daemon.settings.update("auth_mode", "always")
    key = str(daemon.settings.get("api_key"))
    app = create_app(daemon)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.post("/api/events/token")).status_code == 401
        r = await http.post("/api/events/token", headers={"X-Api-Key": key})
        token = r.json()["token"]
        assert key not in token
        # a wrong token is refused; the stream route is the only one a token opens
        assert (await http.get("/api/events", params={"token": token + "0"})).status_code == 401
        assert (await http.get("/api/jobs", params={"token": token})).status_code == 401

    # the real stream route: the middleware lets the token through (a dummy app answers)
    from subtitler.api.auth import ApiKeyMiddleware

    async def ok_app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    guarded = ApiKeyMiddleware(ok_app, settings_reader=daemon.settings.get)
    transport = httpx.ASGITransport(app=guarded, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/api/events", params={"token": token})).status_code == 200
        assert (await http.get("/api/events")).status_code == 401


async def test_wizard_rerun_edits_and_starts_a_scan(
    client: httpx.AsyncClient, daemon: Daemon, small_lib: Path
) -> None:
    body = {
        "library_paths": [str(small_lib)],
        "scan_rules": [
            {"name": "Default", "audio_language_is": "eng", "action_type": "transcribe"}
        ],
        "worker_config": {"count": 1, "type": "cpu"},
    }
    r = await client.post("/api/setup/standalone", json=body)
    assert r.status_code == 200, r.text
    assert daemon.setup.first_scan is not None
    await daemon.setup.first_scan
    assert int(daemon.settings.get("scanner_total_scans")) >= 1
    body["scan_rules"][0]["audio_language_is"] = "spa"
    r = await client.post("/api/setup/standalone", json=body)
    assert r.status_code == 200, r.text
    rules = (await client.get("/api/scan-rules")).json()
    assert len(rules) == 1 and rules[0]["conditions"]["audio_language_is"] == "spa"
    await daemon.setup.first_scan
