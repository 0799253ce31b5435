"""First contact under an unknown name (issue 17): a browser gets a readable page naming
SUBTITLER_ALLOWED_HOSTS and the allowed_hosts setting; API clients keep the JSON 400; the page
is static (no script, no form, nothing of the daemon's state), and SUBTITLER_ALLOWED_HOSTS on a
real server admits the name."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from subtitler.api import create_app
from subtitler.daemon import Daemon
from tests.conftest import start_server

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
async def lan(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(daemon), client=("192.168.1.20", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://192.168.1.2:8000") as http:
        yield http


async def test_a_browser_under_an_unknown_name_is_told_what_to_set(
    lan: httpx.AsyncClient, daemon: Daemon
) -> None:
    page = await lan.get("/", headers={**BROWSER, "Host": "nas.lan:8000"})
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "<code>nas.lan</code>" in text and "SUBTITLER_ALLOWED_HOSTS: nas.lan" in text
    assert "allowed_hosts" in text
    # static: nothing that runs, posts or frames; nothing of the daemon's state
    assert not re.search(r"<script|<form|<iframe|<a |\son\w+=", text, re.I)
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert daemon.settings.get("api_key") not in text
    # the same name from an API client (or a state change from a page) stays JSON
    api = await lan.get("/api/status", headers={"Host": "nas.lan:8000"})
    assert api.status_code == 400 and api.json()["code"] == "host_not_allowed"
    post = await lan.post("/api/jobs", headers={**BROWSER, "Host": "nas.lan"}, json={})
    assert post.status_code == 400 and post.json()["code"] == "host_not_allowed"
    head = await lan.head("/", headers={**BROWSER, "Host": "nas.lan"})
    assert head.status_code == 400 and head.content == b""


async def test_a_hostile_host_header_is_escaped_not_echoed(lan: httpx.AsyncClient) -> None:
    evil = '"><script>alert(1)</script>'
    page = await lan.get("/", headers={**BROWSER, "Host": evil})
    assert page.status_code == 400
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "SUBTITLER_ALLOWED_HOSTS: nas.lan" in page.text  # a neutral example instead


@pytest.mark.slow
def test_subtitler_allowed_hosts_admits_the_name_on_a_real_server(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "data", env={"SUBTITLER_ALLOWED_HOSTS": "nas.lan,.home.arpa"})
    try:
        for host in ("nas.lan:8000", "tv.home.arpa"):
            ok = httpx.get(f"{srv.url}/api/status", headers={"Host": host}, timeout=10)
            assert ok.status_code == 200, (host, ok.text)
        other = httpx.get(f"{srv.url}/", headers={**BROWSER, "Host": "media:8000"}, timeout=10)
        assert other.status_code == 400 and "SUBTITLER_ALLOWED_HOSTS: media" in other.text
    finally:
        srv.stop()
