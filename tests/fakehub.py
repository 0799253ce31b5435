"""A Hugging Face hub on 127.0.0.1 (point HF_ENDPOINT at it): the model-info API with file
metadata (size, git blob id, LFS sha256) and `resolve` downloads with Range requests. It can
break a download off part-way (once) and serve a file whose bytes do not match its listing."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LFS_SUFFIXES = (".bin", ".model", ".spm")


@dataclass
class FakeHub:
    url: str = ""
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    break_after: dict[str, int] = field(default_factory=dict)  # file -> bytes sent, then cut
    corrupt: set[str] = field(default_factory=set)  # served with one byte flipped
    ranges: list[str] = field(default_factory=list)  # Range headers received
    gets: list[str] = field(default_factory=list)

    def add_dir(self, repo: str, path: Path) -> None:
        self.repos[repo] = {f.name: f.read_bytes() for f in sorted(path.iterdir()) if f.is_file()}

    def info(self, repo: str) -> dict[str, Any]:
        siblings = []
        for name, data in self.repos[repo].items():
            blob = hashlib.sha1(f"blob {len(data)}\0".encode() + data, usedforsecurity=False)
            row: dict[str, Any] = {"rfilename": name, "size": len(data), "blobId": blob.hexdigest()}
            if name.endswith(LFS_SUFFIXES):
                row["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                              "pointerSize": 134}  # fmt: skip
            siblings.append(row)
        return {"id": repo, "modelId": repo, "sha": COMMIT, "siblings": siblings}


@contextmanager
def fake_hub() -> Iterator[FakeHub]:
    hub = FakeHub()
    api = re.compile(r"^/api/models/(.+?)(?:/revision/([^/]+))?$")
    resolve = re.compile(r"^/(.+?)/resolve/([^/]+)/(.+)$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _json(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.gets.append(path)
            if m := api.match(path):
                if m.group(1) not in hub.repos:
                    self._json(404, {"error": "Repository not found"})
                else:
                    self._json(200, hub.info(m.group(1)))
                return
            m = resolve.match(path)
            if not m or m.group(1) not in hub.repos or m.group(3) not in hub.repos[m.group(1)]:
                self._json(404, {"error": "Entry not found"})
                return
            name = m.group(3)
            data = hub.repos[m.group(1)][name]
            if name in hub.corrupt:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            start = 0
            if rng := self.headers.get("Range"):
                hub.ranges.append(f"{name}:{rng}")
                start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(data) and start:
                self.send_response(416)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206 if start else 200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            cut = hub.break_after.pop(name, None)
            if cut is not None:  # send part of it, then drop the connection (once)
                self.wfile.write(data[start : start + cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data[start:])

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield hub
    finally:
        httpd.shutdown()
        httpd.server_close()
