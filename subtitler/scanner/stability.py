"""Never trust a growing file: a watched file is handed on only once its size and mtime have
stayed the same for a quiet period (paperless's stability tracker).

Every event on a file (and every change seen when it is stat'ed) restarts its quiet period, so a
file copied in chunks is handed on once, after the copy. The tracker lives on the event loop; the
stats run in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_CHECK_INTERVAL = 0.25  # seconds between stat rounds (bounds the added latency)


@dataclass
class _Pending:
    size: int | None
    mtime_ns: int | None
    since: float  # monotonic time of the last change


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class StabilityTracker:
    def __init__(
        self,
        *,
        quiet_seconds: Callable[[], float],
        on_stable: Callable[[str], Awaitable[None]],
    ) -> None:
        self._quiet = quiet_seconds
        self._on_stable = on_stable
        self._pending: dict[str, _Pending] = {}
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    @property
    def pending(self) -> list[str]:
        return sorted(self._pending)

    def touch(self, path: str) -> None:
        """A file changed (created, written, moved in): (re)start its quiet period."""
        entry = self._pending.get(path)
        now = time.monotonic()
        if entry is None:
            self._pending[path] = _Pending(None, None, now)
        else:
            entry.since = now
        self._wake.set()

    def forget(self, path: str, *, tree: bool = False) -> int:
        """Stop tracking a file (or every file under a folder): it was deleted or moved away."""
        prefix = path.rstrip("/") + "/"
        gone = [p for p in self._pending if p == path or (tree and p.startswith(prefix))]
        for p in gone:
            del self._pending[p]
        return len(gone)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="stability")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        self._pending.clear()

    async def _run(self) -> None:
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
            interval = min(MAX_CHECK_INTERVAL, self._quiet() / 4)
            await asyncio.sleep(interval)
            await self._check()

    async def _check(self) -> None:
        paths = list(self._pending)
        stats = await asyncio.to_thread(lambda: [_stat(p) for p in paths])
        now = time.monotonic()
        quiet = self._quiet()
        for path, st in zip(paths, stats, strict=True):
            entry = self._pending.get(path)
            if entry is None:
                continue  # forgotten meanwhile
            if st is None:
                del self._pending[path]  # gone before it settled (the watcher says why)
                continue
            if (entry.size, entry.mtime_ns) != st:
                entry.size, entry.mtime_ns = st
                entry.since = now
            elif now - entry.since >= quiet:
                del self._pending[path]
                handler = asyncio.get_running_loop().create_task(self._handle(path))
                self._handlers.add(handler)
                handler.add_done_callback(self._handlers.discard)

    async def _handle(self, path: str) -> None:
        try:
            await self._on_stable(path)
        except Exception:
            logger.exception("handling the new file %s failed", path)
