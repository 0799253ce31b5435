"""API key auth: four ways to send the key, local exemption, and proxy headers."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from subtitler.api import create_app
from subtitler.api.auth import client_is_local
from subtitler.daemon import Daemon


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "local"),
    [
        ("127.0.0.1", {}, [], True),
        ("::1", {}, [], True),
        ("192.168.1.20", {}, [], True),
        ("10.0.0.5", {}, [], True),
        ("::ffff:192.168.1.20", {}, [], True),
        ("8.8.8.8", {}, [], False),
        # Proxy headers from a peer that is not a trusted proxy: never local.
        ("127.0.0.1", {b"x-forwarded-for": b"192.168.1.9"}, [], False),
        ("127.0.0.1", {b"forwarded": b"for=192.168.1.9"}, [], False),
        # A trusted proxy forwarding for a LAN client, or for the internet.
        ("127.0.0.1", {b"x-forwarded-for": b"192.168.1.9"}, ["127.0.0.1"], True),
        ("127.0.0.1", {b"x-forwarded-for": b"203.0.113.7"}, ["127.0.0.1"], False),
        ("172.18.0.2", {b"forwarded": b'for="[2001:db8::1]:443"'}, ["172.16.0.0/12"], False),
        # A client-forged first hop does not help: the nearest untrusted hop decides.
        ("127.0.0.1", {b"x-forwarded-for": b"192.168.1.9, 203.0.113.7"}, ["127.0.0.1"], False),
        (None, {}, [], False),
    ],
)
def test_client_is_local(
    peer: str | None, headers: dict[bytes, bytes], trusted: list[str], local: bool
) -> None:
    assert client_is_local(peer, headers, trusted) is local


@pytest.fixture
async def remote(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a public address: the key is required."""
    transport = httpx.ASGITransport(app=create_app(daemon), client=("203.0.113.50", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://subtitler") as http:
        yield http


async def test_remote_needs_a_key(remote: httpx.AsyncClient, daemon: Daemon) -> None:
    key = daemon.settings.get("api_key")
    denied = await remote.get("/api/jobs")
    assert denied.status_code == 401
    assert "API key required" in denied.json()["detail"]
    wrong = await remote.get("/api/jobs", headers={"X-Api-Key": "wrong" * 5})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "Invalid API key"
    basic = base64.b64encode(f"bazarr:{key}".encode()).decode()
    for kwargs in (
        {"headers": {"X-Api-Key": key}},
        {"params": {"apikey": key}},
        {"headers": {"Authorization": f"Bearer {key}"}},
        {"headers": {"Authorization": f"Basic {basic}"}},
    ):
        assert (await remote.get("/api/jobs", **kwargs)).status_code == 200, kwargs


async def test_basic_auth_from_a_url_like_bazarr(daemon: Daemon) -> None:
    key = daemon.settings.get("api_key")
    transport = httpx.ASGITransport(app=create_app(daemon), client=("203.0.113.50", 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url=f"http://bazarr:{key}@subtitler"
    ) as http:
        assert (await http.get("/api/status")).status_code == 200


async def test_open_routes_need_no_key(remote: httpx.AsyncClient) -> None:
    for path in ("/health", "/", "/docs", "/openapi.json"):
        assert (await remote.get(path)).status_code == 200, path


async def test_auth_mode_always_covers_local_clients(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    assert (await client.get("/api/jobs")).status_code == 200  # local_exempt by default
    assert (
        await client.put("/api/settings/auth_mode", json={"value": "always"})
    ).status_code == 200
    assert (await client.get("/api/jobs")).status_code == 401
    key = daemon.settings.get("api_key")
    assert (await client.get("/api/jobs", headers={"X-Api-Key": key})).status_code == 200


async def test_forwarded_request_from_loopback_is_not_local(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    headers = {"X-Forwarded-For": "192.168.1.30"}
    assert (await client.get("/api/jobs", headers=headers)).status_code == 401
    await daemon.settings.update("trusted_proxies", ["127.0.0.0/8"])
    assert (await client.get("/api/jobs", headers=headers)).status_code == 200
    internet = {"X-Forwarded-For": "198.51.100.4"}
    assert (await client.get("/api/jobs", headers=internet)).status_code == 401


@pytest.mark.parametrize(
    ("proxy_header", "headers"),
    [
        ("X-Real-IP", [("X-Real-IP", "203.0.113.7, 203.0.113.8")]),
        ("X-Real-IP", [("X-Real-IP", "192.168.1.9"), ("X-Real-IP", "203.0.113.8")]),
        ("X-Real-IP", [("X-Real-IP", "")]),
        ("X-Real-IP", [("X-Real-IP", "not-an-address")]),
        ("Forwarded", [("Forwarded", "proto=http")]),
        ("Forwarded", [("Forwarded", "for=192.168.1.9, proto=http")]),
        ("Forwarded", [("Forwarded", "for=192.168.1.9;for=192.168.1.10")]),
        ("Forwarded", [("Forwarded", "garbage")]),
        ("Forwarded", [("Forwarded", "for=192.168.1.9;;by=x")]),
        ("X-Forwarded-For", [("X-Forwarded-For", "192.168.1.9,,")]),
        ("X-Forwarded-For", [("X-Forwarded-For", "unknown")]),
        # a header other than the one trusted
        ("X-Real-IP", [("X-Forwarded-For", "192.168.1.9")]),
    ],
)
async def test_a_malformed_proxy_header_is_an_unknown_client(
    client: httpx.AsyncClient, daemon: Daemon, proxy_header: str, headers: list[tuple[str, str]]
) -> None:
    """Issue 19: from a trusted proxy, any malformed value must not fall back to the proxy's
    own (local) address: the client is unknown and needs the key."""
    await daemon.settings.bulk_update(
        {"trusted_proxies": ["127.0.0.0/8"], "proxy_header": proxy_header}
    )
    answer = await client.get("/api/jobs", headers=headers)
    assert answer.status_code == 401, answer.text
    key = [("X-Api-Key", str(daemon.settings.get("api_key")))]
    assert (await client.get("/api/jobs", headers=headers + key)).status_code == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [("X-Real-IP", "192.168.1.9"), ("Forwarded", 'for="192.168.1.9:5000";proto=https')],
)
async def test_a_well_formed_proxy_header_still_counts(
    client: httpx.AsyncClient, daemon: Daemon, name: str, value: str
) -> None:
    await daemon.settings.bulk_update({"trusted_proxies": ["127.0.0.0/8"], "proxy_header": name})
    assert (await client.get("/api/jobs", headers={name: value})).status_code == 200
