"""One of each duty across the cluster: a PostgreSQL advisory lock held on its own connection.

The holder keeps the lock as long as its connection lives; when the node dies (or loses the
database) PostgreSQL drops the session and its lock, and the next node that tries within its
`interval` takes over. Callbacks run on acquire and on loss (e.g. start and stop the scanner).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from subtitler.cluster.pg import close_quietly, connect
from subtitler.system.stopping import finished, stop_within

logger = logging.getLogger(__name__)

# Stable 64-bit keys per duty (pg_advisory_lock takes a bigint).
DUTY_KEYS = {"scanner": 0x5375_6274_0001, "leases": 0x5375_6274_0002}

STOP_TIMEOUT = 2.0

Callback = Callable[[], Awaitable[None]]


class DutyLock:
    def __init__(
        self,
        name: str,
        *,
        url: str,
        interval: Callable[[], float],
        on_acquire: Callback | None = None,
        on_lose: Callback | None = None,
    ) -> None:
        self.name = name
        self._key = DUTY_KEYS[name]
        self._url = url
        self._interval = interval
        self._on_acquire = on_acquire
        self._on_lose = on_lose
        self.held = False
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"duty-{self.name}")

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Cancel the loop and let go of the lock's connection within `timeout` (terminated when
        the server does not answer), then run `on_lose` within the same `timeout`."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            if not await stop_within(f"the {self.name} duty", finished(task), timeout):
                conn = self._conn
                if conn is not None:
                    conn.terminate()
        await stop_within(f"giving up the {self.name} duty", self._lose(), timeout)

    async def _run(self) -> None:
        while True:
            conn = None
            try:
                conn = self._conn = await connect(self._url)
                while True:
                    if await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._key):
                        break
                    await asyncio.sleep(self._interval())
                logger.info("this node now holds the %s duty", self.name)
                self.held = True
                if self._on_acquire is not None:
                    await self._on_acquire()
                while True:  # keep the session (and so the lock) alive; notice when it is gone
                    await asyncio.sleep(self._interval())
                    async with asyncio.timeout(10):  # (wait_for may swallow a cancel)
                        await conn.fetchval("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.held:
                    logger.warning("lost the %s duty: %s", self.name, exc)
                else:
                    logger.debug("cannot try the %s duty: %s", self.name, exc)
                await self._lose()
                await asyncio.sleep(self._interval())
            finally:
                self._conn = None
                if conn is not None:
                    await close_quietly(conn)

    async def _lose(self) -> None:
        if not self.held:
            return
        self.held = False
        if self._on_lose is not None:
            try:
                await self._on_lose()
            except Exception:
                logger.exception("stopping the %s duty failed", self.name)
