"""Each sender's real payload (tests/fixtures/webhooks) posted to the live ASGI app of a started
daemon: the right file queued once, mapped paths honoured, import + watcher duplicates collapse
to one job, Test events answered, unknown events ignored with a reason, bad input refused."""

from __future__ import annotations

import json
import shutil

import httpx
import pytest

from subtitler.daemon import Daemon
from tests.integrations.conftest import Lib, hook, jobs, payload


async def post(client: httpx.AsyncClient, daemon: Daemon, sender: str, name: str) -> httpx.Response:
    return await client.post(hook(daemon, sender), json=payload(name))


async def test_sonarr_import_queues_the_mapped_file_once(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib
) -> None:
    first = await post(remote, wired, "sonarr", "sonarr_download.json")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "queued" and body["event"] == "Download"
    assert body["files"][0]["their_path"].startswith("/tv/The Expanse/")
    assert body["files"][0]["path"] == str(lib.episode)
    queued = await jobs(wired)
    assert [(j.file_path, j.target_lang, j.status) for j in queued] == [
        (str(lib.episode), "eng", "queued")
    ]
    assert queued[0].options["trigger"] == "webhook:sonarr:Download"
    job_id = queued[0].id
    assert body["job_ids"] == [job_id]

    # Sonarr retries / a Rename of the same file / the watcher seeing the import: one job.
    again = (await post(remote, wired, "sonarr", "sonarr_download.json")).json()
    assert again["status"] == "duplicate" and again["job_ids"] == [job_id]
    assert f"already queued as job {job_id}" in again["reason"]
    renamed = (await post(remote, wired, "sonarr", "sonarr_rename.json")).json()
    assert renamed["status"] == "duplicate" and renamed["job_ids"] == [job_id]
    assert await wired.scanner.file_settled(str(lib.episode), str(lib.root)) == 0
    assert len(await jobs(wired)) == 1

    # An upgrade brings a new file (its own job) and deletes the old one (its queued job goes).
    upgrade = (await post(remote, wired, "sonarr", "sonarr_download_upgrade.json")).json()
    assert upgrade["status"] == "queued"
    assert upgrade["files"][0]["path"] == str(lib.upgrade)
    states = {j.file_path: (j.status, j.error) for j in await jobs(wired)}
    assert states == {
        str(lib.upgrade): ("queued", None),
        str(lib.episode): ("cancelled", f"media file gone (download by sonarr): {lib.episode}"),
    }


async def test_a_rename_moves_the_queued_work_to_the_new_name(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib
) -> None:
    old = lib.episode.with_name("The.Expanse.S01E01.mkv")
    shutil.copyfile(lib.episode, old)
    before = payload("sonarr_download.json")
    before["episodeFile"]["path"] = "/tv/The Expanse/Season 01/The.Expanse.S01E01.mkv"
    first = (await remote.post(hook(wired, "sonarr"), json=before)).json()
    assert first["status"] == "queued" and first["files"][0]["path"] == str(old)
    old.rename(lib.episode.with_name("gone.tmp"))  # Sonarr renames on disk, then tells us
    renamed = (await post(remote, wired, "sonarr", "sonarr_rename.json")).json()
    assert renamed["status"] == "queued" and renamed["files"][0]["path"] == str(lib.episode)
    states = {j.file_path: j.status for j in await jobs(wired)}
    assert states == {str(old): "cancelled", str(lib.episode): "queued"}


async def test_every_sender_maps_its_own_view_of_the_same_movie(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib
) -> None:
    radarr = (await post(remote, wired, "radarr", "radarr_download.json")).json()
    assert radarr["status"] == "queued" and radarr["files"][0]["path"] == str(lib.movie)
    job_id = radarr["job_ids"][0]
    # Emby (/mnt/media/movies), Tautulli (/data/movies), a Radarr rename: the same job.
    for sender, name in (
        ("emby", "emby_library_new.json"),
        ("tautulli", "tautulli_added.json"),
        ("radarr", "radarr_rename.json"),
    ):
        answer = (await post(remote, wired, sender, name)).json()
        assert answer["status"] == "duplicate", (sender, answer)
        assert answer["job_ids"] == [job_id]
        assert answer["files"][0]["path"] == str(lib.movie)
    # Jellyfin "Send All Properties" carries Path (/data/tv): queued without a look-up.
    jf = (await post(remote, wired, "jellyfin", "jellyfin_item_added_all_properties.json")).json()
    assert jf["status"] == "queued" and jf["files"][0]["path"] == str(lib.episode)
    assert len(await jobs(wired)) == 2


async def test_test_events_are_answered_and_queue_nothing(
    remote: httpx.AsyncClient, wired: Daemon
) -> None:
    for sender, name in (
        ("sonarr", "sonarr_test.json"),
        ("radarr", "radarr_test.json"),
        ("emby", "emby_test.json"),
    ):
        answer = await post(remote, wired, sender, name)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "ok" and answer.json()["event"] in (
            "Test",
            "system.notificationtest",
        )
    tautulli = await remote.post(hook(wired, "tautulli"), json={"event": "test"})
    assert tautulli.json()["status"] == "ok"
    assert await jobs(wired) == []


async def test_unknown_events_are_ignored_with_a_reason(
    remote: httpx.AsyncClient, wired: Daemon
) -> None:
    grab = (await post(remote, wired, "sonarr", "sonarr_grab.json")).json()
    assert grab == {
        "status": "ignored",
        "event": "Grab",
        "reason": "Sonarr event Grab does not bring a new file",
    }
    season = (await post(remote, wired, "jellyfin", "jellyfin_item_added_season.json")).json()
    assert season["status"] == "ignored" and "Season is not a video" in season["reason"]
    plex = await remote.post(
        hook(wired, "plex"), files={"payload": (None, json.dumps({"event": "media.pause"}))}
    )
    assert plex.status_code == 200 and plex.json()["status"] == "ignored"
    assert "media.pause" in plex.json()["reason"]
    assert await jobs(wired) == []


async def test_bad_input(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = await remote.post("/api/webhooks/sonarr?apikey=" + "0" * 32, json={})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "Invalid API key"
    missing = await remote.post("/api/webhooks/radarr", json=payload("radarr_download.json"))
    assert missing.status_code == 401
    garbage = await remote.post(
        hook(wired, "sonarr"),
        content=b"\x00not json{",
        headers={"Content-Type": "application/json"},
    )
    assert garbage.status_code == 400
    assert garbage.json()["code"] == "webhook_malformed"
    assert "not valid JSON" in garbage.json()["detail"]
    array = await remote.post(hook(wired, "emby"), json=[1, 2])
    assert array.status_code == 400 and "JSON object" in array.json()["detail"]
    no_event = await remote.post(hook(wired, "radarr"), json={"movie": {}})
    assert no_event.status_code == 400 and "eventType" in no_event.json()["detail"]
    no_path = payload("sonarr_download.json")
    del no_path["episodeFile"]
    assert (await remote.post(hook(wired, "sonarr"), json=no_path)).status_code == 400
    no_field = await remote.post(hook(wired, "plex"), files={"thumb": ("t.jpg", b"\xff\xd8")})
    assert no_field.status_code == 400 and "payload" in no_field.json()["detail"]
    page = await remote.post(
        hook(wired, "sonarr"),
        json=payload("sonarr_download.json"),
        headers={"Origin": "http://evil.example"},
    )
    assert page.status_code == 403 and page.json()["code"] == "cross_origin"
    huge = await remote.post(hook(wired, "sonarr"), content=b" " * (5 * 1024 * 1024))
    assert huge.status_code == 413

    outside = payload("sonarr_download.json")
    outside["episodeFile"]["path"] = "/downloads/incoming/The.Expanse.S01E01.mkv"
    answer = await remote.post(hook(wired, "sonarr"), json=outside)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ignored"
    assert answer.json()["reason"] == (
        "/downloads/incoming/The.Expanse.S01E01.mkv is outside every path mapping (path_mappings)"
    )
    monkeypatch.setenv("SUBTITLER_ALLOWED_PATHS", "")  # only library_paths allow
    await wired.settings.update("library_paths", [str(lib.tv)])
    films = (await post(remote, wired, "radarr", "radarr_download.json")).json()
    assert films["status"] == "ignored"
    assert films["reason"] == f"{lib.movie} is outside the library folders (library_paths)"
    await wired.settings.update("library_paths", [str(lib.root)])
    gone = payload("radarr_download.json")
    gone["movieFile"]["path"] = "/movies/Gone (2020)/Gone.mkv"
    missing_file = (await remote.post(hook(wired, "radarr"), json=gone)).json()
    assert missing_file["status"] == "ignored" and "file not found" in missing_file["reason"]
    assert await jobs(wired) == []

    log = (
        await remote.get(
            "/api/connections/deliveries?direction=in",
            params={"apikey": wired.settings.get("api_key")},
        )
    ).json()["items"]
    statuses = [(d["channel"], d["status"]) for d in log]
    assert ("sonarr", "malformed") in statuses and ("sonarr", "ignored") in statuses
    assert all(d["direction"] == "in" for d in log)


async def test_switches(remote: httpx.AsyncClient, wired: Daemon, lib: Lib) -> None:
    await wired.settings.update("webhook_sonarr_enabled", False)
    off = await post(remote, wired, "sonarr", "sonarr_download.json")
    assert off.status_code == 403 and off.json()["code"] == "webhook_disabled"
    assert (await post(remote, wired, "radarr", "radarr_test.json")).status_code == 200

    await wired.settings.update("webhook_playback_enabled", False)
    play = (await post(remote, wired, "tautulli", "tautulli_played.json")).json()
    assert play["status"] == "ignored" and "webhook_playback_enabled" in play["reason"]
    assert await jobs(wired) == []

    await wired.settings.update("webhook_playback_enabled", True)
    play = (await post(remote, wired, "tautulli", "tautulli_played.json")).json()
    assert play["status"] == "queued"
    (job,) = await jobs(wired)
    assert job.priority == 50  # webhook_playback_priority


async def test_playback_raises_a_queued_job(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib
) -> None:
    imported = (await post(remote, wired, "sonarr", "sonarr_download.json")).json()
    (job,) = await jobs(wired)
    assert job.priority == 0
    await wired.settings.update("webhook_playback_priority", 77)
    played = (await post(remote, wired, "tautulli", "tautulli_played.json")).json()
    assert played["status"] == "duplicate" and played["job_ids"] == imported["job_ids"]
    (job,) = await jobs(wired)
    assert job.priority == 77
    lines = [line.message for line in await wired.queue.logs(job.id)]
    assert "priority raised to 77: playback on tautulli" in lines
