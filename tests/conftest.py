"""Fixtures shared by every tier: a daemon on a real SQLite file, an HTTP client for it, and a
real `subtitler serve` process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from subtitler.api import create_app
from subtitler.config import Config
from subtitler.daemon import Daemon

SUBTITLER = str(Path(sys.executable).with_name("subtitler"))

with contextlib.suppress(ImportError):  # pytest-timeout (dev extra): pending tasks on a timeout
    from tests.hangs import pytest_timeout_set_timer  # noqa: F401


@pytest.fixture(autouse=True)
def _allowed_paths(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs may only be made for files under library_paths/allowed_paths (or
    SUBTITLER_ALLOWED_PATHS): every test keeps its files under pytest's base temp dir."""
    monkeypatch.setenv("SUBTITLER_ALLOWED_PATHS", str(tmp_path_factory.getbasetemp()))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(
        data_dir=tmp_path / "data",
        sse_heartbeat_seconds=0.5,
        node_id="test-node",
        start_workers=False,  # API tests drive the queue themselves
        allowed_hosts="testserver,subtitler",  # the in-process clients' base URLs
    )


@pytest.fixture
async def daemon(config: Config) -> AsyncIterator[Daemon]:
    daemon = Daemon(config)
    await daemon.start()
    try:
        yield daemon
    finally:
        await daemon.stop()


@pytest.fixture
async def client(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(daemon)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def media_file(tmp_path: Path) -> Path:
    """Any readable file: job creation checks the path, not the contents."""
    path = tmp_path / "library" / "Show S01E01.mkv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x1a\x45\xdf\xa3 not really a video")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, wait: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=wait)


def start_server(data_dir: Path, *, env: dict[str, str] | None = None) -> ServerProcess:
    port = free_port()
    log_path = data_dir.parent / f"serve-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "SUBTITLER_LOG_LEVEL": "info",
        # Jobs only for files under allowed folders: the tests' files live under pytest's
        # base temp dir (data_dir is <base>/<test or fixture dir>/data).
        "SUBTITLER_ALLOWED_PATHS": str(data_dir.parent.parent),
        **(env or {}),
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                SUBTITLER,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    server = ServerProcess(proc, f"http://127.0.0.1:{port}", data_dir, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"subtitler serve exited {proc.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"subtitler serve did not become healthy:\n{server.log()}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = start_server(tmp_path / "data")
    try:
        yield srv
    finally:
        if srv.proc.poll() is None:
            srv.stop(signal.SIGKILL)
