"""One live process per SUBTITLER_NODE_ID: a second worker or full node with the id of a running
one exits 2 and names the running node's host; once that node is gone (even by SIGKILL), the id
is free again at once."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.postgres.nodes import NodeProcess, launch, prepare_database, start

pytestmark = pytest.mark.slow


def test_a_second_live_node_with_the_same_id_refuses_to_start(
    pg_url: str, tmp_path: Path, nodes: list[NodeProcess]
) -> None:
    prepare_database(pg_url, worker_cpu_count=0, worker_gpu_count=0)
    first = start("worker", tmp_path / "a", "gpu-pc", db_url=pg_url)
    nodes.append(first)
    for kind in ("worker", "serve"):  # another machine's data folder, the same id
        twin = launch(kind, tmp_path / f"b-{kind}", "gpu-pc", db_url=pg_url,
                      env={"SUBTITLER_START_WORKERS": "false"})  # fmt: skip
        nodes.append(twin)
        assert twin.proc.wait(timeout=60) == 2, twin.log()
        log = twin.log()
        assert "node id 'gpu-pc' is already used by a running node" in log, log
        assert f"on host {socket.gethostname()}" in log and "SUBTITLER_NODE_ID" in log
    assert httpx.get(f"{first.url}/health", timeout=5).status_code == 200  # untouched

    first.kill()  # a crash frees the id at once: the restart is not refused
    again = start("worker", tmp_path / "c", "gpu-pc", db_url=pg_url)
    nodes.append(again)
    assert httpx.get(f"{again.url}/health", timeout=5).json()["node_id"] == "gpu-pc"
