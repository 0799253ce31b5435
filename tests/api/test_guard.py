"""The request guard: Host allow-list, cross-origin refusal, JSON-only bodies, size limits, NaN,
NUL bytes, bounded ids, and 422s that never crash or echo large values (issue 14)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from subtitler.api import create_app
from subtitler.daemon import Daemon


@pytest.fixture
async def lan(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on the LAN (local_exempt lets it in without a key) talking to the daemon's IP."""
    transport = httpx.ASGITransport(app=create_app(daemon), client=("192.168.1.20", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://192.168.1.2:8000") as http:
        yield http


async def test_foreign_host_is_refused_without_a_key(
    lan: httpx.AsyncClient, daemon: Daemon
) -> None:
    evil = {"Host": "evil.attacker.example"}
    resp = await lan.get("/api/settings/api_key", headers=evil)
    assert resp.status_code == 400 and resp.json()["code"] == "host_not_allowed"
    assert daemon.settings.get("api_key") not in resp.text
    # The daemon's own names and IP literals are fine; so is a foreign host with the key.
    for host in ("192.168.1.2:8000", "localhost:8000", "[::1]:8000", "127.0.0.1"):
        assert (await lan.get("/api/status", headers={"Host": host})).status_code == 200
    key = {"X-Api-Key": daemon.settings.get("api_key")}
    assert (await lan.get("/api/status", headers={**evil, **key})).status_code == 200
    await daemon.settings.update("allowed_hosts", [".example"])
    assert (await lan.get("/api/status", headers=evil)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Content-Type": "text/plain"},
        {"Referer": "http://evil.example/page.html", "Content-Type": "text/plain"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
async def test_cross_origin_state_change_is_refused(
    lan: httpx.AsyncClient, daemon: Daemon, headers: dict[str, str]
) -> None:
    for method, path in (
        ("POST", "/api/workers/pool/start?cpu_workers=2"),
        ("POST", "/api/workers/pool/stop"),
        ("POST", "/api/jobs/queue/clear"),
        ("POST", "/api/setup/skip"),
        ("POST", "/asr"),
    ):
        resp = await lan.request(method, path, headers=headers, content=b"x=1")
        assert resp.status_code == 403, (path, resp.text)
        assert resp.json()["code"] == "cross_origin"
    assert daemon.pool.stats()["total_workers"] == 0
    assert daemon.settings.get("setup_completed") is False
    # A cross-origin read is not exempted either (the key is required).
    read = await lan.get("/api/settings/api_key", headers=headers)
    assert read.status_code == 401


async def test_same_origin_ui_and_keyed_or_allowed_origins_pass(
    lan: httpx.AsyncClient, daemon: Daemon
) -> None:
    same = {"Origin": "http://192.168.1.2:8000"}
    assert (await lan.post("/api/setup/skip", headers=same)).status_code == 200
    foreign = {"Origin": "https://dash.example.org"}
    key = {"X-Api-Key": daemon.settings.get("api_key")}
    assert (await lan.post("/api/setup/skip", headers={**foreign, **key})).status_code == 200
    await daemon.settings.update("allowed_origins", ["https://dash.example.org"])
    assert (await lan.post("/api/setup/skip", headers=foreign)).status_code == 200


async def test_json_routes_want_json(client: httpx.AsyncClient, media_file: object) -> None:
    body = json.dumps({"file_path": str(media_file), "target_lang": "eng"})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        resp = await client.post(
            "/api/jobs",
            content=body,
            headers={"Content-Type": content_type} if content_type else {},
        )
        assert resp.status_code == 415, resp.text
        assert resp.json()["code"] == "unsupported_media_type"
    ok = await client.post("/api/jobs", content=body, headers={"Content-Type": "application/json"})
    assert ok.status_code == 201
    # The same connection-level client keeps working after each refusal.
    assert (await client.get("/api/status")).status_code == 200


async def test_body_limits_and_no_echo(client: httpx.AsyncClient, daemon: Daemon) -> None:
    huge = json.dumps({"value": "x" * (2 * 1024 * 1024)})
    resp = await client.put(
        "/api/settings/scanner_interval_minutes",
        content=huge,
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 413 and resp.json()["code"] == "body_too_large"
    # Under the limit but of the wrong type: the 422 stays small.
    big = {"file_path": ["y" * 500_000], "target_lang": "eng"}
    bad = await client.post("/api/jobs", json=big)
    assert bad.status_code == 422 and len(bad.content) < 5000
    await daemon.settings.update("max_json_body_kib", 16)
    small = await client.post("/api/jobs", json={"file_path": "z" * 20_000})
    assert small.status_code == 413


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"file_path": "/x", "priority": NaN}', "NaN"),
        (b'{"file_path": "/x", "priority": Infinity}', "Infinity"),
        (b'{"file_path": "/x\\u0000y"}', "NUL"),
    ],
)
async def test_nan_and_nul_in_json_are_400(
    client: httpx.AsyncClient, content: bytes, needle: str
) -> None:
    resp = await client.post(
        "/api/jobs", content=content, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400 and needle in resp.json()["detail"]


async def test_malformed_json_is_a_clean_422(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/jobs", content=b"\xff\xfe not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code in (400, 422)
    assert resp.json()["detail"]
    text = await client.post(
        "/api/jobs", content=b"[1, 2", headers={"Content-Type": "application/json"}
    )
    assert text.status_code == 422 and isinstance(text.json()["detail"], list)


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("POST", "/asr?language=en%00", 400),
        ("POST", "/api/scanner/analyze?file_path=/media/a%00.mkv", 400),
        ("GET", "/api/jobs?page=99999999999999999999999", 422),
        ("GET", "/api/scan-rules/99999999999999999999999", 422),
        ("GET", "/api/scan-rules/0", 422),
        ("GET", "/api/system/gpu/99999999999999999999", 422),
        ("POST", "/api/scanner/analyze?file_path=/" + "a" * 5000, 400),
        ("GET", "/api/jobs/" + "b" * 6000, 414),
    ],
)
async def test_bad_values_are_4xx(
    client: httpx.AsyncClient, method: str, url: str, status: int
) -> None:
    resp = await client.request(method, url)
    assert resp.status_code == status, resp.text
    assert "detail" in resp.json()


async def test_paths_outside_the_library_are_403(client: httpx.AsyncClient) -> None:
    for path in ("/etc/hostname", "/etc/shadow", "/nonexistent/x.mkv"):
        job = await client.post("/api/jobs", json={"file_path": path, "target_lang": "eng"})
        assert job.status_code == 403 and job.json()["code"] == "path_not_allowed"
        probe = await client.post("/api/scanner/analyze", params={"file_path": path})
        assert probe.status_code == 403 and probe.json()["code"] == "path_not_allowed"


async def test_empty_api_key_is_refused(client: httpx.AsyncClient, daemon: Daemon) -> None:
    key = daemon.settings.get("api_key")
    for value in ("", "  "):
        resp = await client.put("/api/settings/api_key", json={"value": value})
        assert resp.status_code == 400 and "empty" in resp.json()["detail"]
    assert daemon.settings.get("api_key") == key


async def test_worker_cap(client: httpx.AsyncClient, daemon: Daemon) -> None:
    await daemon.settings.update("max_workers", 2)
    resp = await client.post("/api/workers/pool/start", params={"cpu_workers": 3})
    assert resp.status_code == 400 and resp.json()["code"] == "too_many_workers"
    assert daemon.pool.stats()["total_workers"] == 0


async def test_health_degraded_when_the_disk_is_below_the_floor(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    assert (await client.get("/health")).status_code == 200
    await daemon.settings.update("min_free_disk_mib", 1048576)  # 1 TiB: more than this disk
    resp = await client.get("/health")
    assert resp.status_code == 503
    assert resp.json()["detail"].startswith("degraded: disk full")
