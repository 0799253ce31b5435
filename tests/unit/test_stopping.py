"""stop_within and StopDeadline: a stop that hangs is cancelled at its deadline and named; one
that ignores its cancellation is left behind after a short grace; errors are logged, not raised."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from subtitler.system.stopping import StopDeadline, finished, stop_within


async def test_a_stop_that_finishes_in_time_is_true() -> None:
    done: list[str] = []

    async def stop() -> None:
        await asyncio.sleep(0.01)
        done.append("stopped")

    assert await stop_within("quick part", stop(), 5.0)
    assert done == ["stopped"]


async def test_a_hung_stop_is_cancelled_at_its_deadline_and_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled = asyncio.Event()

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert not await stop_within("the stuck part", hangs(), 0.2)
    assert time.monotonic() - started < 2.0
    assert cancelled.is_set()
    assert "the stuck part did not stop within 0.2 s" in caplog.text


async def test_a_stop_that_ignores_cancellation_is_left_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # as a shielded close on a database that does not answer would

    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert not await stop_within("the stubborn part", stubborn(), 0.1, grace=0.1)
    assert time.monotonic() - started < 2.0
    assert "the stubborn part ignored its cancellation" in caplog.text
    release.set()  # what Database.terminate() does for a stuck session
    await asyncio.sleep(0.05)


async def test_an_error_in_a_stop_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        assert not await stop_within("the failing part", fails(), 1.0)
    assert "stopping the failing part failed: RuntimeError: boom" in caplog.text


async def test_cancelling_the_caller_cancels_the_stop() -> None:
    inner_cancelled = asyncio.Event()

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            inner_cancelled.set()
            raise

    outer = asyncio.create_task(stop_within("part", hangs(), 30))
    await asyncio.sleep(0.05)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    await asyncio.wait_for(inner_cancelled.wait(), 5)


async def test_finished_treats_the_tasks_own_cancellation_as_done() -> None:
    task = asyncio.create_task(asyncio.Event().wait())
    await asyncio.sleep(0)
    task.cancel()
    await finished(task)  # no CancelledError: the cancel was what we asked for
    assert task.cancelled()


async def test_the_deadline_shares_never_add_up_past_its_total() -> None:
    deadline = StopDeadline(1.0)

    async def hangs() -> None:
        await asyncio.Event().wait()

    started = time.monotonic()
    for name in ("a", "b", "c", "d"):
        await deadline.run(name, hangs(), 0.6, keep=0.2)
    elapsed = time.monotonic() - started
    assert deadline.late == ["a", "b", "c", "d"]
    assert elapsed < 1.0 + 4 * 0.1 + 1.0  # each later part gets the 0.1 s minimum
    assert deadline.share(5.0) == pytest.approx(0.1)
