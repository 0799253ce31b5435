"""A real, throwaway PostgreSQL server (Debian's `postgresql` package) for the multi-node path."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import delete

from subtitler.api import create_app
from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.db.models import Job, ScanRule
from subtitler.db.models_library import LibraryFile
from tests.conftest import free_port
from tests.postgres.nodes import NodeProcess


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


DATA_DIRS: dict[str, Path] = {}  # url -> data directory of each running throwaway server


@contextlib.contextmanager
def frozen_postgres(url: str) -> Iterator[list[int]]:
    """SIGSTOP the server (postmaster and every backend): it accepts TCP connections but never
    answers, as a NAS database that hangs would. SIGCONT afterwards, whatever happens."""
    pid = int((DATA_DIRS[url] / "postmaster.pid").read_text().split()[0])
    postmaster = psutil.Process(pid)
    stopped: list[psutil.Process] = []
    try:
        postmaster.send_signal(signal.SIGSTOP)  # first: no new backends while we go on
        stopped.append(postmaster)
        for child in postmaster.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(signal.SIGSTOP)
                stopped.append(child)
        yield [p.pid for p in stopped]
    finally:
        for proc in reversed(stopped):
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGCONT)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """postgresql+asyncpg URL of a fresh cluster on a free loopback port (stopped at the end)."""
    if _pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql)")
    with throwaway_postgres() as url:
        yield url


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a fresh PostgreSQL cluster (also used by bench/cluster.py)."""
    bindir = _pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own account
        as_user = ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups"]
    root = Path(tempfile.mkdtemp(prefix="subtitler-pg-"))
    data = root / "data"
    if as_user:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")  # fmt: skip
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    DATA_DIRS[url] = data
    try:
        yield url
    finally:
        DATA_DIRS.pop(url, None)
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def nodes() -> Iterator[list[NodeProcess]]:
    """Node processes a test starts (append them); killed at the end however the test ends."""
    started: list[NodeProcess] = []
    yield started
    for node in started:
        node.kill()


@pytest.fixture
async def pg_daemon_client(
    pg_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Daemon, httpx.AsyncClient]]:
    """A daemon on the shared PostgreSQL (no workers; jobs, rules and the library emptied
    first) and an in-process client for its API."""
    daemon = Daemon(
        Config(data_dir=tmp_path / "data", database_url=pg_url, start_workers=False,
               node_id="node-lib", allowed_hosts="testserver")  # the client's base URL
    )  # fmt: skip
    await daemon.start()
    async with daemon.db.write() as session:
        for table in (Job, ScanRule, LibraryFile):
            await session.execute(delete(table))
    transport = httpx.ASGITransport(app=create_app(daemon), client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield daemon, http
    finally:
        await daemon.stop()
