"""Stopping is always fine: twice, from two callers at once, during start, and for a worker node
whose database never answered. Each one returns well within the stop's deadline."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from subtitler.cluster.worker_node import WorkerNode
from subtitler.config import Config
from subtitler.daemon import Daemon, DaemonStopped
from subtitler.system.stopping import STOP_TOTAL
from tests.conftest import free_port
from tests.waiting import wait_until


async def test_stopping_twice_and_from_two_callers_at_once(config: Config) -> None:
    daemon = Daemon(config)
    await daemon.start()
    started = time.monotonic()
    await asyncio.gather(daemon.stop(), daemon.stop())
    await daemon.stop()
    assert time.monotonic() - started < STOP_TOTAL
    assert not daemon.started and not daemon.lock.held
    again = Daemon(config)  # the data folder is free again
    await again.start()
    await again.stop()


async def test_a_stop_during_start_cancels_the_start_and_stops_what_had_started(
    config: Config,
) -> None:
    daemon = Daemon(config)
    starting = asyncio.create_task(daemon.start())
    await wait_until(lambda: daemon.lock.held, timeout=30, what="the start to take the lock")
    await daemon.stop()
    # cancelled midway (DaemonStopped); had it just finished, the stop stopped a started daemon
    with contextlib.suppress(DaemonStopped):
        await asyncio.wait_for(starting, 10)
    assert not daemon.started and not daemon.lock.held
    again = Daemon(config)
    await again.start()
    assert again.started
    await again.stop()


async def test_a_worker_node_whose_database_never_answers_stops_at_once(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"  # refused: nothing there
    node = WorkerNode(Config(data_dir=tmp_path / "w", database_url=url, node_id="w",
                             start_workers=False))  # fmt: skip
    await node.start()
    await wait_until(lambda: node.last_error is not None, timeout=30, what="a failed connect")
    started = time.monotonic()
    await node.stop()
    await node.stop()
    assert time.monotonic() - started < 5
    assert not node.started and not node.ready


@pytest.mark.parametrize("twice", [False, True])
async def test_stop_without_start_is_a_no_op(config: Config, twice: bool) -> None:
    daemon = Daemon(config)
    await daemon.stop()
    if twice:
        await daemon.stop()
    assert not daemon.started
