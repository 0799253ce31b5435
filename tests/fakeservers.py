"""In-test HTTP servers on 127.0.0.1 that play a third party (Jellyfin, Emby, Plex, a webhook
receiver, an Apprise json:// endpoint): each records every request and answers from a handler."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple[int, Any]  # (status, JSON-able body or None)
Handler = Callable[[Request], Answer]


@dataclass
class FakeServer:
    url: str
    requests: list[Request] = field(default_factory=list)

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.requests)


@contextmanager
def fake_server(handler: Handler) -> Iterator[FakeServer]:
    record: list[Request] = []

    class _Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            req = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
                at=time.monotonic(),
            )
            record.append(req)
            status, payload = handler(req)
            body = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server = FakeServer(url=f"http://127.0.0.1:{httpd.server_address[1]}", requests=record)
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
