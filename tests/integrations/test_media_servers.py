"""In-test HTTP servers on 127.0.0.1 play Jellyfin, Emby and Plex: item-id look-ups for
payloads without a path, the "Test" button (token + libraries + an example path mapped), and
the refresh calls made after a job completes, with our paths mapped back to each server's view."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from subtitler.daemon import Daemon
from tests.fakeservers import Answer, FakeServer, Request, fake_server
from tests.integrations.conftest import EPISODE, MOVIE, Lib, hook, jobs, mappings, payload

TOKEN = "t0k3n"


def mediabrowser_token(req: Request) -> str | None:
    """The Token of `Authorization: MediaBrowser k="v", ...` as Jellyfin parses it."""
    scheme, _, rest = req.headers.get("authorization", "").partition(" ")
    if scheme != "MediaBrowser":
        return None
    fields = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return fields.get("Token")


def jellyfin_like(
    item_paths: dict[str, str], roots: list[str], *, legacy_header: bool
) -> Callable[[Request], Answer]:
    """Jellyfin 12 (rc1-rc5) reads only the Authorization header (X-Emby-Token is off by
    default); Emby reads both."""

    def handle(req: Request) -> Answer:
        legacy = legacy_header and req.headers.get("x-emby-token") == TOKEN
        if mediabrowser_token(req) != TOKEN and not legacy:
            return 401, {"error": "unauthorized"}
        if req.path == "/Items":
            ids = req.query.get("Ids", [""])[0]
            found = (
                [{"Id": ids, "Path": item_paths[ids], "Type": "Episode"}]
                if ids in item_paths
                else []
            )
            return 200, {"Items": found, "TotalRecordCount": len(found)}
        if req.path == "/Library/VirtualFolders":
            return 200, [{"Name": "Library", "Locations": roots, "CollectionType": "mixed"}]
        if req.path == "/Library/Media/Updated" and req.method == "POST":
            return 204, None
        return 404, None

    return handle


def plex(parts: dict[str, str], sections: dict[str, str]) -> Callable[[Request], Answer]:
    def handle(req: Request) -> Answer:
        if req.headers.get("x-plex-token") != TOKEN:
            return 401, None
        if req.path.startswith("/library/metadata/"):
            key = req.path.rsplit("/", 1)[1]
            if key not in parts:
                return 404, None
            meta = {
                "ratingKey": key,
                "type": "episode",
                "Media": [{"Part": [{"file": parts[key]}]}],
            }
            return 200, {"MediaContainer": {"size": 1, "Metadata": [meta]}}
        if req.path == "/library/sections":
            dirs = [
                {"key": k, "title": f"Section {k}", "Location": [{"id": int(k), "path": p}]}
                for k, p in sections.items()
            ]
            return 200, {"MediaContainer": {"size": len(dirs), "Directory": dirs}}
        if req.path.startswith("/library/sections/") and req.path.endswith("/refresh"):
            return 200, None
        return 404, None

    return handle


@pytest.fixture
def servers(lib: Lib) -> Iterator[dict[str, FakeServer]]:
    jf_items = {"5f0e4a8c9d3b4c2a8e1f7a6b5c4d3e2f": f"/data/tv/{EPISODE}"}
    emby_items = {"40123": f"/mnt/media/movies/{MOVIE}"}
    with (
        fake_server(
            jellyfin_like(jf_items, ["/data/tv", "/data/movies"], legacy_header=False)
        ) as jf,
        fake_server(jellyfin_like(emby_items, ["/mnt/media/movies"], legacy_header=True)) as emby,
        fake_server(
            plex(
                {"4321": f"/data/tv/{EPISODE}", "5555": f"/data/movies/{MOVIE}"},
                {"1": "/data/movies", "2": "/data/tv"},
            )
        ) as px,
    ):
        yield {"jellyfin": jf, "emby": emby, "plex": px}


async def connect(daemon: Daemon, servers: dict[str, FakeServer]) -> None:
    await daemon.settings.bulk_update(
        {
            f"{name}_{what}": value
            for name, srv in servers.items()
            for what, value in (("url", srv.url), ("api_key", TOKEN))
        }
    )


async def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def test_item_ids_are_looked_up_through_each_server(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib, servers: dict[str, FakeServer]
) -> None:
    # Not connected yet: ignored with the reason, nothing queued.
    unknown = (
        await remote.post(
            hook(wired, "jellyfin"), json=payload("jellyfin_item_added_template.json")
        )
    ).json()
    assert (
        unknown["status"] == "ignored"
        and "set jellyfin_url and jellyfin_api_key" in unknown["reason"]
    )

    await connect(wired, servers)
    jf = (
        await remote.post(
            hook(wired, "jellyfin"), json=payload("jellyfin_item_added_template.json")
        )
    ).json()
    assert jf["status"] == "queued" and jf["files"][0]["path"] == str(lib.episode)
    (lookup,) = servers["jellyfin"].calls("GET", "/Items")
    assert lookup.query["Ids"] == ["5f0e4a8c9d3b4c2a8e1f7a6b5c4d3e2f"]
    assert mediabrowser_token(lookup) == TOKEN and "x-emby-token" not in lookup.headers

    # Plex posts multipart with a `payload` field (and a thumbnail); rating key -> Part.file.
    body = json.dumps(payload("plex_library_new.json"))
    px = await remote.post(
        hook(wired, "plex"),
        files={
            "payload": (None, body, "application/json"),
            "thumb": ("thumb.jpg", b"\xff\xd8\xff" + b"\0" * 2048, "image/jpeg"),
        },
    )
    assert px.status_code == 200, px.text
    assert px.json()["status"] == "duplicate" and px.json()["job_ids"] == jf["job_ids"]
    assert servers["plex"].calls("GET", "/library/metadata/4321")

    # Emby playback without Item.Path: looked up by Item.Id, queued at the playback priority.
    emby = (await remote.post(hook(wired, "emby"), json=payload("emby_playback_start.json"))).json()
    assert emby["status"] == "queued" and emby["files"][0]["path"] == str(lib.movie)
    (emby_lookup,) = servers["emby"].calls("GET", "/Items")
    assert emby_lookup.query["Ids"] == ["40123"]
    assert mediabrowser_token(emby_lookup) == TOKEN
    movie_job = next(j for j in await jobs(wired) if j.file_path == str(lib.movie))
    assert movie_job.priority == 50

    # Plex media.play of the same movie: a duplicate; the look-up found it through section 1.
    play = await remote.post(
        hook(wired, "plex"), files={"payload": (None, json.dumps(payload("plex_media_play.json")))}
    )
    assert play.json()["job_ids"] == [movie_job.id]

    # A server that refuses the token: 502 with the reason, logged.
    await wired.settings.update("plex_api_key", "wrong")
    refused = await remote.post(hook(wired, "plex"), files={"payload": (None, body)})
    assert refused.status_code == 502 and "token was refused" in refused.json()["detail"]
    assert len(await jobs(wired)) == 2


async def test_refresh_after_a_subtitle_is_written_uses_each_servers_view(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib, servers: dict[str, FakeServer]
) -> None:
    await connect(wired, servers)
    # Sonarr sees /tv, Jellyfin and Plex /data/tv: both map to our library.
    queued = (await remote.post(hook(wired, "sonarr"), json=payload("sonarr_download.json"))).json()
    job = await wired.queue.claim(worker_id="w-test")
    assert job is not None and job.id == queued["job_ids"][0]
    srt = lib.episode.with_suffix(".en.srt")
    srt.write_text("1\n00:00:00,100 --> 00:00:00,900\nHello\n\n", encoding="utf-8")
    await wired.queue.complete(job.id, worker_id="w-test", output_path=str(srt))

    jf, px = servers["jellyfin"], servers["plex"]
    await eventually(
        lambda: bool(
            jf.calls("POST", "/Library/Media/Updated")
            and px.calls("GET", "/library/sections/2/refresh")
        )
    )
    (update,) = jf.calls("POST", "/Library/Media/Updated")
    assert update.json() == {
        "Updates": [
            {"Path": f"/data/tv/{Path(EPISODE).with_suffix('.en.srt')}", "UpdateType": "Created"},
            {"Path": f"/data/tv/{EPISODE}", "UpdateType": "Modified"},
        ]
    }
    (scan,) = px.calls("GET", "/library/sections/2/refresh")
    assert scan.query["path"] == [f"/data/tv/{Path(EPISODE).parent}"]
    await wired.integrations.idle()
    # Emby holds only movies: asked for its libraries, not bothered with a refresh.
    assert servers["emby"].calls("GET", "/Library/VirtualFolders")
    assert not servers["emby"].calls("POST", "/Library/Media/Updated")
    lines = [line.message for line in await wired.queue.logs(job.id)]
    assert f"asked jellyfin: /Library/Media/Updated /data/tv/{EPISODE}" in lines
    assert f"asked plex: partial scan of section 2 at /data/tv/{Path(EPISODE).parent}" in lines
    assert (await wired.queue.get(job.id)).status == "completed"


async def test_a_failing_refresh_is_logged_on_the_job_and_never_fails_it(
    wired: Daemon, lib: Lib
) -> None:
    with fake_server(lambda req: (500, {"error": "boom"})) as broken:
        await wired.settings.bulk_update(
            {
                "jellyfin_url": broken.url,
                "jellyfin_api_key": TOKEN,
                "media_server_refresh": ["jellyfin"],
            }
        )
        job = await wired.queue.enqueue(file_path=str(lib.movie), file_name=lib.movie.name)
        await wired.queue.claim(worker_id="w-test")
        srt = lib.movie.with_suffix(".en.srt")
        srt.write_text("1\n00:00:00,100 --> 00:00:00,900\nHi\n\n", encoding="utf-8")
        await wired.queue.complete(job.id, worker_id="w-test", output_path=str(srt))
        await eventually(lambda: len(broken.requests) >= 1)
        await wired.integrations.idle()
    lines = [(line.level, line.message) for line in await wired.queue.logs(job.id)]
    assert any(
        level == "warning" and "media refresh failed" in msg and "HTTP 500" in msg
        for level, msg in lines
    ), lines
    assert (await wired.queue.get(job.id)).status == "completed"
    log = await wired.integrations.log.recent(direction="out", channel="jellyfin")
    assert log[0]["status"] == "failed" and log[0]["job_ids"] == [job.id]


async def test_server_test_lists_libraries_and_maps_an_example(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib, servers: dict[str, FakeServer]
) -> None:
    key = {"apikey": wired.settings.get("api_key")}
    unset = await remote.post("/api/connections/servers/jellyfin/test", params=key)
    assert unset.status_code == 400 and unset.json()["code"] == "server_not_configured"
    ok = await remote.post(
        "/api/connections/servers/plex/test",
        params=key,
        json={"url": servers["plex"].url, "api_key": TOKEN},
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert [lib_["name"] for lib_ in body["libraries"]] == ["Section 1", "Section 2"]
    assert body["example"] == {
        "their_path": "/data/movies",
        "our_path": str(lib.movies),
        "mapped": True,
        "exists": True,
    }
    wrong = await remote.post(
        "/api/connections/servers/jellyfin/test",
        params=key,
        json={"url": servers["jellyfin"].url, "api_key": "nope"},
    )
    assert wrong.status_code == 502 and "token was refused" in wrong.json()["detail"]
    preview = await remote.post(
        "/api/connections/path-preview", params=key, json={"path": "/elsewhere/x.mkv"}
    )
    assert preview.json()["mapped"] is False
    overview = (await remote.get("/api/connections", params=key)).json()
    sonarr = next(s for s in overview["senders"] if s["name"] == "sonarr")
    assert sonarr["webhook_url"] == f"http://subtitler/api/webhooks/sonarr?apikey={key['apikey']}"
    assert overview["path_mappings"] == mappings(lib)


async def test_tautulli_looks_up_a_rating_key_through_its_own_api(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib
) -> None:
    def tautulli(req: Request) -> Answer:
        if req.query.get("apikey") != [TOKEN]:
            return 200, {"response": {"result": "error", "message": "Invalid apikey", "data": {}}}
        if req.query.get("cmd") == ["get_metadata"] and req.query.get("rating_key") == ["4321"]:
            media = [{"parts": [{"file": f"/data/tv/{EPISODE}"}]}]
            return 200, {"response": {"result": "success", "data": {"media_info": media}}}
        if req.query.get("cmd") == ["get_libraries"]:
            data = [{"section_id": "2", "section_name": "TV Shows"}]
            return 200, {"response": {"result": "success", "data": data}}
        return 200, {"response": {"result": "error", "message": "Unknown cmd", "data": {}}}

    played = payload("tautulli_played.json")
    played["file"] = ""  # a template without {file}: only the rating key
    with fake_server(tautulli) as tt:
        await wired.settings.bulk_update({"tautulli_url": tt.url, "tautulli_api_key": TOKEN})
        answer = (await remote.post(hook(wired, "tautulli"), json=played)).json()
        test = await remote.post(
            "/api/connections/servers/tautulli/test",
            params={"apikey": wired.settings.get("api_key")},
        )
    assert answer["status"] == "queued" and answer["files"][0]["path"] == str(lib.episode)
    assert test.json()["libraries"] == [{"name": "TV Shows", "paths": []}]
    (job,) = await jobs(wired)
    assert job.priority == 50
