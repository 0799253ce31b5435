"""Bounded stops: every component gets a share of the grace period a container gets on
`docker stop` (10 s, then SIGKILL); one that has not stopped by then is cancelled and named.

`stop_within(name, coro, seconds)` runs one stop with a deadline. `StopDeadline` hands out the
shares of one whole stop so that the sum never passes its total, however many parts hang.
A stop stuck where cancellation cannot reach (a shielded session close on a database that does
not answer) is abandoned after a short grace: the caller goes on and closes the connections
underneath it (`Database.terminate()`), which is what lets such a task finish.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

logger = logging.getLogger(__name__)

STOP_TOTAL = 8.0  # Daemon.stop(), after uvicorn's 2 s close of open connections: 10 s in all
CANCEL_GRACE = 0.5  # how long a cancelled stop gets to unwind before it is left behind


async def stop_within(
    name: str, stop: Awaitable[object], seconds: float, *, grace: float = CANCEL_GRACE
) -> bool:
    """Await `stop` for at most `seconds`; past that cancel it (and wait `grace` more), log the
    component's name and return False. An error inside the stop is logged, never raised: the
    other components still stop. Cancelling the caller cancels the stop too."""
    task = asyncio.ensure_future(stop)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(0.0, seconds))
    except asyncio.CancelledError:
        task.cancel()
        raise
    if done:
        if task.cancelled():
            logger.warning("stopping %s was cancelled", name)
            return False
        exc = task.exception()
        if exc is not None:
            logger.error("stopping %s failed: %s: %s", name, type(exc).__name__, exc,
                         exc_info=exc)  # fmt: skip
            return False
        return True
    logger.warning("%s did not stop within %.1f s: cancelling it", name, seconds)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        logger.error("%s ignored its cancellation; left behind (its connections are closed)", name)
        task.add_done_callback(_quiet)
    else:
        _quiet(task)
    return False


async def finished(task: asyncio.Future[Any]) -> None:
    """Wait for a task that was just cancelled; its cancellation is the expected outcome."""
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # the waiter itself was cancelled, not the task


def _quiet(task: asyncio.Future[Any]) -> None:
    """Retrieve a finished stop's outcome so asyncio does not warn about it later."""
    if not task.cancelled():
        task.exception()


class StopDeadline:
    """One whole stop's budget: `share(wanted, keep=...)` is what a part may use now, leaving
    `keep` seconds for the parts after it."""

    def __init__(self, total: float = STOP_TOTAL) -> None:
        self.total = total
        self.ends = time.monotonic() + total
        self.late: list[str] = []  # components that had to be cancelled

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def share(self, wanted: float, *, keep: float = 0.0) -> float:
        return max(0.1, min(wanted, self.remaining() - keep))

    async def run(self, name: str, stop: Awaitable[object], wanted: float, *,
                  keep: float = 0.0) -> bool:  # fmt: skip
        ok = await stop_within(name, stop, self.share(wanted, keep=keep))
        if not ok:
            self.late.append(name)
        return ok
