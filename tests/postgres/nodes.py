"""Cluster nodes as real processes (`subtitler serve` / `subtitler worker`) for the tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from subtitler.db import Database
from subtitler.db.migrate import migrate
from subtitler.db.models import Job
from subtitler.db.models_cluster import Node
from subtitler.events import EventBus
from subtitler.settings import SettingsService
from tests.conftest import free_port

TINY_FAST = {"model": "tiny.en", "compute_type": "int8", "beam_size": 1, "batch_size": 8}


@dataclass
class NodeProcess:
    proc: subprocess.Popen[bytes]
    url: str
    node_id: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def launch(
    kind: str, root: Path, node_id: str, *, db_url: str, env: dict[str, str] | None = None,
    prefix: list[str] | None = None,
) -> NodeProcess:  # fmt: skip
    """Start `subtitler serve|worker` without waiting for it; `prefix` runs it through another
    command first (e.g. `unshare --mount` and a script that ends in `exec "$@"`)."""
    port = free_port()
    data = root / node_id
    data.mkdir(parents=True, exist_ok=True)
    log_path = root / f"{node_id}.log"
    full_env = {**os.environ, "SUBTITLER_LOG_LEVEL": "info", "SUBTITLER_NODE_ID": node_id,
                "SUBTITLER_DATABASE_URL": db_url, **(env or {})}  # fmt: skip
    with log_path.open("ab") as log:
        # python -m: spawned worker processes must not re-run a console-script shim's main
        argv = [sys.executable, "-m", "subtitler", kind, "--host", "127.0.0.1",
                "--port", str(port), "--data-dir", str(data)]  # fmt: skip
        argv = [*(prefix or []), *argv]
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=full_env)
    return NodeProcess(proc, f"http://127.0.0.1:{port}", node_id, log_path)


def wait_healthy(node: NodeProcess, *, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.proc.poll() is not None:
            raise RuntimeError(f"{node.node_id} exited {node.proc.returncode}:\n{node.log()}")
        try:
            if httpx.get(f"{node.url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    node.kill()
    raise RuntimeError(f"{node.node_id} did not become healthy:\n{node.log()}")


def start(kind: str, root: Path, node_id: str, *, db_url: str, **kw: Any) -> NodeProcess:
    node = launch(kind, root, node_id, db_url=db_url, **kw)
    wait_healthy(node)
    return node


async def _prepare(db_url: str, values: dict[str, Any]) -> None:
    db = Database(db_url)
    try:
        await migrate(db, sqlite_file=None)
        settings = SettingsService(db, EventBus())
        await settings.init_defaults()
        if values:
            await settings.bulk_update(values)
        async with db.write() as session:
            await session.execute(Job.__table__.delete())
            await session.execute(Node.__table__.delete())
    finally:
        await db.dispose()


def prepare_database(db_url: str, **values: Any) -> None:
    """Migrate, empty jobs and nodes, and write the settings every node will read."""
    asyncio.run(_prepare(db_url, values))


def wait(probe: Any, *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


class CuttableProxy:
    """A TCP forwarder on 127.0.0.1 in front of PostgreSQL that a test can cut and restore,
    as a NAS reboot or a pulled cable would: connections drop, new ones are refused."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        proxy = self

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                upstream = socket.create_connection(("127.0.0.1", proxy.target_port))
                with proxy._lock:
                    proxy._open.update({self.request, upstream})
                ends = {self.request: upstream, upstream: self.request}
                try:
                    while True:
                        ready, _, _ = select.select(list(ends), [], [], 1.0)
                        for src in ready:
                            data = src.recv(65536)
                            if not data:
                                return
                            ends[src].sendall(data)
                except OSError:
                    return
                finally:
                    upstream.close()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Pipe)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def cut(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
            self._open.clear()

    def url(self, pg_url: str) -> str:
        return re.sub(r"@127\.0\.0\.1:\d+/", f"@127.0.0.1:{self.port}/", pg_url)
