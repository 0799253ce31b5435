"""Issue 19's minor items that answered 500 or let too much through: a lone surrogate in any
JSON body, path-preview with malformed mappings, a server's Test on unexpected JSON, an Origin
on another port while Host has none, webhook bodies above the global JSON cap."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from subtitler.api import create_app
from subtitler.daemon import Daemon
from tests.fakeservers import Answer, Request, fake_server

LONE = '"\\ud800"'  # as a client writes it in JSON text


@pytest.fixture
async def lan(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(daemon), client=("192.168.1.20", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://192.168.1.2") as http:
        yield http


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/jobs", '{"file_path": ' + LONE + ', "target_lang": "eng"}'),
        ("POST", "/api/tokens", '{"name": ' + LONE + "}"),
        ("POST", "/api/webhooks/sonarr", '{"eventType": ' + LONE + "}"),
        ("POST", "/api/library/ignore-folder", '{"folder": ' + LONE + "}"),
        ("PUT", "/api/settings/allowed_paths", '{"value": [' + LONE + "]}"),
        ("POST", "/api/rules", '{"name": "x", ' + LONE + ": 1}"),  # a key too
    ],
)
async def test_a_lone_surrogate_in_any_json_body_is_400(
    client: httpx.AsyncClient, daemon: Daemon, method: str, path: str, body: str
) -> None:
    key = {"X-Api-Key": daemon.settings.get("api_key"), "Content-Type": "application/json"}
    answer = await client.request(method, path, content=body.encode(), headers=key)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "bad_json"
    assert "surrogate" in answer.json()["detail"]
    # a proper pair (an emoji) is text
    paired = '{"name": "\\ud83d\\ude00 tokens"}'
    ok = await client.post("/api/tokens", content=paired.encode(), headers=key)
    assert ok.status_code == 201 and ok.json()["name"] == "\U0001f600 tokens"


async def test_path_preview_with_malformed_mappings_is_422(client: httpx.AsyncClient) -> None:
    bad: list[list[list[str]]] = [[[]], [["/only-one"]], [["/a", "/b", "/c"]]]
    for mappings in bad:
        answer = await client.post(
            "/api/connections/path-preview", json={"path": "0", "mappings": mappings}
        )
        assert answer.status_code == 422, (mappings, answer.text)
    good = await client.post(
        "/api/connections/path-preview", json={"path": "/tv/x.mkv", "mappings": [["/tv", "/m"]]}
    )
    assert good.status_code == 200 and good.json()["our_path"] == "/m/x.mkv"


@pytest.mark.parametrize(
    ("answer", "names"),
    [
        ([1, 2], ("jellyfin", "emby", "plex", "sonarr")),
        ("text", ("jellyfin", "plex", "radarr")),
        (7, ("jellyfin", "plex", "sonarr")),
        ({"Items": 1}, ("jellyfin", "sonarr")),
        ([{"Locations": 5}], ("jellyfin", "emby", "plex")),
    ],
)
async def test_a_server_test_on_unexpected_json_is_502(
    client: httpx.AsyncClient, answer: Any, names: tuple[str, ...]
) -> None:
    def handle(_: Request) -> Answer:
        return 200, answer

    with fake_server(handle) as srv:
        for name in names:
            reply = await client.post(
                f"/api/connections/servers/{name}/test", json={"url": srv.url, "api_key": "t"}
            )
            assert reply.status_code == 502, (name, reply.text)
            assert reply.json()["code"] == "media_server_error"
            assert "unexpected answer" in reply.json()["detail"]


async def test_an_origin_on_another_port_is_not_same_origin_when_host_has_none(
    lan: httpx.AsyncClient,
) -> None:
    # Host "192.168.1.2" (port 80): a page served on :8080 of the same machine is another site.
    other_port = {"Origin": "http://192.168.1.2:8080"}
    refused = await lan.post("/api/setup/skip", headers=other_port)
    assert refused.status_code == 403 and refused.json()["code"] == "cross_origin"
    same = {"Origin": "http://192.168.1.2"}
    assert (await lan.post("/api/setup/skip", headers=same)).status_code == 200
    explicit = {"Origin": "http://192.168.1.2:80"}
    assert (await lan.post("/api/setup/skip", headers=explicit)).status_code == 200


async def test_a_webhook_above_the_json_cap_but_under_its_own_is_read(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    key = daemon.settings.get("api_key")
    # An 800-episode Sonarr Import Complete: about 1.4 MB, over the global 1 MiB JSON cap.
    episodes = [
        {"id": i, "title": "An episode title " * 100, "seasonNumber": 1} for i in range(800)
    ]
    body = json.dumps({"eventType": "Test", "episodes": episodes}).encode()
    assert 1024 * 1024 < len(body) < 4 * 1024 * 1024
    hook = await client.post(
        f"/api/webhooks/sonarr?apikey={key}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert hook.status_code == 200, hook.text[:300]
    # The global cap still holds everywhere else.
    other = await client.post(
        "/api/tokens", content=body, headers={"Content-Type": "application/json"}
    )
    assert other.status_code == 413
    # And the webhook's own cap above 4 MiB.
    huge = b'{"eventType": "Test", "pad": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    refused = await client.post(
        f"/api/webhooks/sonarr?apikey={key}",
        content=huge,
        headers={"Content-Type": "application/json"},
    )
    assert refused.status_code == 413


@pytest.mark.parametrize(
    "value",
    ["/srv/" + "x" * 5000, "/srv/media\n/etc", "/srv/a\tb", "media/relative", "/a\x00b"],
)
async def test_allowed_paths_must_be_sane_absolute_folders(
    client: httpx.AsyncClient, value: str
) -> None:
    for key in ("allowed_paths", "library_paths"):
        answer = await client.put(f"/api/settings/{key}", json={"value": [value]})
        assert 400 <= answer.status_code < 500, (key, answer.text)
    ok = await client.put("/api/settings/allowed_paths", json={"value": ["/srv/media"]})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]:8096",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://0.0.0.0:8096",
        "http://[::ffff:169.254.169.254]/",
    ],
)
async def test_no_outbound_request_to_link_local_or_metadata(
    client: httpx.AsyncClient, media_file: object, url: str
) -> None:
    job = await client.post(
        "/api/jobs",
        json={"file_path": str(media_file), "target_lang": "eng", "callback_url": url},
    )
    assert job.status_code == 400 and job.json()["code"] == "url_not_allowed", job.text
    for key in ("jellyfin_url", "libretranslate_url", "openai_base_url"):
        answer = await client.put(f"/api/settings/{key}", json={"value": url})
        assert 400 <= answer.status_code < 500, (key, answer.text)
    test = await client.post(
        "/api/connections/servers/jellyfin/test", json={"url": url, "api_key": "t"}
    )
    assert test.status_code == 400 and test.json()["code"] == "url_not_allowed"


async def test_lan_and_loopback_servers_stay_allowed(
    client: httpx.AsyncClient, media_file: object
) -> None:
    for key, url in (
        ("jellyfin_url", "http://192.168.1.10:8096"),
        ("libretranslate_url", "http://localhost:5000"),
        ("openai_base_url", "http://127.0.0.1:11434/v1"),
    ):
        assert (await client.put(f"/api/settings/{key}", json={"value": url})).status_code == 200
    lan = await client.post(
        "/api/jobs",
        json={
            "file_path": str(media_file),
            "target_lang": "eng",
            "callback_url": "http://192.168.1.10:9000/done",
        },
    )
    assert lan.status_code == 201, lan.text


def test_the_transport_refuses_a_name_resolving_to_loopback_for_callbacks() -> None:
    from subtitler.security.outbound import resolved_problem

    assert resolved_problem("http://localhost:9/x", loopback=False)
    assert resolved_problem("http://localhost:9/x", loopback=True) is None
    assert resolved_problem("http://169.254.169.254/", loopback=True)


@pytest.mark.parametrize("sender", ["sonarr", "radarr", "tautulli", "jellyfin", "emby"])
async def test_a_lone_surrogate_in_a_text_webhook_is_4xx(
    client: httpx.AsyncClient, daemon: Daemon, sender: str
) -> None:
    """Senders may post JSON as text/plain (the guard does not parse those): still no 500."""
    key = daemon.settings.get("api_key")
    body = b'{"eventType": "\\ud800", "NotificationType": "\\ud800", "event": "\\ud800"}'
    answer = await client.post(
        f"/api/webhooks/{sender}?apikey={key}",
        content=body,
        headers={"Content-Type": "text/plain"},
    )
    assert 400 <= answer.status_code < 500, answer.text
