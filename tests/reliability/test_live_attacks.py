"""A real daemon on a real socket against what a foreign web page or a careless client sends:
DNS rebinding, cross-origin simple requests, huge bodies, NUL bytes; after every error the
keep-alive connection still answers."""

from __future__ import annotations

import http.client
import json

import httpx
import pytest

from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow


def _conn(server: ServerProcess) -> http.client.HTTPConnection:
    host, port = server.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def test_rebinding_and_csrf_attempts_change_nothing(server: ServerProcess) -> None:
    rebound = httpx.get(
        f"{server.url}/api/settings/api_key", headers={"Host": "evil.attacker.example"}
    )
    assert rebound.status_code == 400 and "api_key" not in rebound.text
    evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    for path in (
        "/api/workers/pool/start?cpu_workers=64",
        "/api/workers/pool/stop",
        "/api/jobs/queue/clear",
        "/api/setup/skip",
        "/asr?encode=false",
    ):
        resp = httpx.post(f"{server.url}{path}", headers=evil, content=b"{}")
        assert resp.status_code == 403, (path, resp.text)
    status = httpx.get(f"{server.url}/api/status").json()
    assert status["workers"]["total_workers"] <= 4  # the configured pool, not 64
    setup = httpx.get(f"{server.url}/api/setup/status").json()
    assert not setup.get("setup_completed", False)


def test_keep_alive_connection_survives_every_error(server: ServerProcess) -> None:
    conn = _conn(server)
    bad_requests = [
        ("POST", "/api/jobs", b"not json", {"Content-Type": "text/plain"}),  # 415
        (
            "POST",
            "/api/jobs",
            b'{"file_path": "/x", "priority": NaN}',
            {"Content-Type": "application/json"},
        ),
        ("GET", "/api/jobs?page=99999999999999999999999", b"", {}),
        ("POST", "/asr?language=en%00", b"", {}),
        ("POST", "/api/scanner/analyze?file_path=/" + "a" * 5000, b"", {}),
        ("GET", "/api/scan-rules/99999999999999999999", b"", {}),
        ("POST", "/api/jobs", b'{"file_path": 5', {"Content-Type": "application/json"}),
        (
            "PUT",
            "/api/settings/api_key",
            json.dumps({"value": ""}).encode(),
            {"Content-Type": "application/json"},
        ),
    ]
    for method, path, body, headers in bad_requests:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        assert 400 <= resp.status < 500, (path, resp.status, payload[:200])
        assert "detail" in json.loads(payload)
        assert resp.getheader("connection") != "close"
        conn.request("GET", "/api/status")  # the same socket
        follow = conn.getresponse()
        assert follow.status == 200, path
        follow.read()
    conn.close()


def test_huge_json_body_is_413_without_reading_it(server: ServerProcess) -> None:
    conn = _conn(server)
    conn.putrequest("PUT", "/api/settings/scanner_interval_minutes")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(300 * 1024 * 1024))
    conn.endheaders()
    conn.send(b'{"value": "' + b"x" * 65536)
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 413 and len(body) < 1000
    conn.close()
