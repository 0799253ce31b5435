"""Behind a real nginx (Debian package, run unprivileged on a free port with its own prefix) in
its two usual configurations: X-Forwarded-For with $proxy_add_x_forwarded_for, and X-Real-IP.
The client connects from 127.0.0.2 (loopback, but not the trusted proxy 127.0.0.1)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, free_port

pytestmark = pytest.mark.slow

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONF = """
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      {forward}
      client_max_body_size 0;
      proxy_request_buffering off;
    }}
  }}
}}
"""

FORWARD = {
    "xff": "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "real_ip": "proxy_set_header X-Real-IP $remote_addr;",
}


class Nginx:
    def __init__(self, prefix: Path, upstream: str, mode: str) -> None:
        self.prefix = prefix
        self.port = free_port()
        prefix.mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        port = upstream.rsplit(":", 1)[1]
        conf.write_text(CONF.format(prefix=prefix, port=self.port, upstream=port,
                                    forward=FORWARD[mode]))  # fmt: skip
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode() if self.proc.stderr else "")
            try:
                httpx.get(f"{self.url}/health", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def client() -> httpx.Client:
    """Requests leave from 127.0.0.2: a loopback (local) client that is not the proxy."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10)


@pytest.fixture(params=["xff", "real_ip"])
def proxied(
    request: pytest.FixtureRequest, server: ServerProcess, tmp_path: Path
) -> Iterator[tuple[str, Nginx, ServerProcess]]:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (scripts/test-packages.txt)")
    proxy = Nginx(tmp_path / "nginx", server.url, request.param)
    try:
        yield request.param, proxy, server
    finally:
        proxy.stop()


def _settings(srv: ServerProcess, **values: object) -> None:
    key = subprocess.run(
        [str(Path(srv.proc.args[0])), "api-key", "--data-dir", str(srv.data_dir)],  # type: ignore[index]
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    resp = httpx.post(
        f"{srv.url}/api/settings/bulk-update",
        json={"settings": {k: v for k, v in values.items()}},
        headers={"X-Api-Key": key},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text


def test_untrusted_proxy_is_never_local(proxied: tuple[str, Nginx, ServerProcess]) -> None:
    _, proxy, _ = proxied
    with client() as http:
        resp = http.get(f"{proxy.url}/api/jobs")
    assert resp.status_code == 401  # trusted_proxies is empty: forwarded means "unknown client"


def test_trusted_proxy_names_the_real_client(proxied: tuple[str, Nginx, ServerProcess]) -> None:
    mode, proxy, srv = proxied
    header = "X-Forwarded-For" if mode == "xff" else "X-Real-IP"
    _settings(srv, trusted_proxies=["127.0.0.1"], proxy_header=header)
    with client() as http:
        assert http.get(f"{proxy.url}/api/jobs").status_code == 200  # 127.0.0.2: loopback
        # Whatever the client writes itself is not believed: public addresses in every header.
        forged = {
            "X-Forwarded-For": "203.0.113.7",
            "X-Real-IP": "203.0.113.7",
            "Forwarded": "for=203.0.113.7",
        }
        assert http.get(f"{proxy.url}/api/jobs", headers=forged).status_code == 200
        # The UI's own same-origin POST through the proxy works without a key.
        same = {"Origin": proxy.url}
        assert http.post(f"{proxy.url}/api/setup/skip", headers=same).status_code == 200
        evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
        assert http.post(f"{proxy.url}/api/setup/skip", headers=evil).status_code == 403


def test_walk_stops_at_the_first_untrusted_hop(proxied: tuple[str, Nginx, ServerProcess]) -> None:
    mode, proxy, srv = proxied
    if mode == "xff":
        # Every loopback address trusted: nginx's hop (127.0.0.2) is skipped and the hop left of
        # it, the public address the client sent, is the client: the key is required.
        _settings(srv, trusted_proxies=["127.0.0.0/8"], proxy_header="X-Forwarded-For")
        with client() as http:
            forged = {"X-Forwarded-For": "203.0.113.7"}
            assert http.get(f"{proxy.url}/api/jobs", headers=forged).status_code == 401
            assert http.get(f"{proxy.url}/api/jobs").status_code == 200
    else:
        # Trusting the header this nginx does not set is a misconfiguration: then the client's
        # own X-Forwarded-For is what is read, so a public one is refused, never let in.
        _settings(srv, trusted_proxies=["127.0.0.1"], proxy_header="X-Forwarded-For")
        with client() as http:
            forged = {"X-Forwarded-For": "203.0.113.7"}
            assert http.get(f"{proxy.url}/api/jobs", headers=forged).status_code == 401
            # ... and without it the proxy named nobody in the trusted header: not local.
            assert http.get(f"{proxy.url}/api/jobs").status_code == 401
