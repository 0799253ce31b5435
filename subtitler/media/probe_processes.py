"""Every probe the daemon makes runs in child processes: PyAV (FFmpeg's libraries, ~20 MB and
a native parser fed with whatever files a library holds) never loads in the daemon, and a file
that crashes the parser kills a child, not the daemon.

The children start at the first probe (spawned: the daemon has threads), one more as the work
needs, up to `processes`, and stop `idle_seconds` after the last probe, so an idle daemon has
none. One task probes up to `PER_TASK` files and answers with JSON text per file (a MediaInfo
without sidecars, or the failure), which the parent decodes in ~15 us. This module imports only
the probe and the standard library: a child stays light (~35 MB before PyAV, ~0.15 s of CPU to
start)."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from subtitler.errors import SubtitlerError
from subtitler.media.probe import MediaInfo, NotMedia, probe_file
from subtitler.media.sidecars import ExternalSubtitle, find_sidecars

logger = logging.getLogger(__name__)

PER_TASK = 100  # files per task: each hand-over costs a few thread wake-ups on both sides
IDLE_SECONDS = 60.0  # children stop this long after the last probe (SUBTITLER_PROBE_IDLE_SECONDS)
CRASHED = "probe_crashed"


def default_processes() -> int:
    """`SUBTITLER_PROBE_PROCESSES`, else one per core up to 2 (the daemon itself needs a core
    to store what they find)."""
    configured = os.environ.get("SUBTITLER_PROBE_PROCESSES", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return min(int(configured), 16)
    return max(1, min(2, os.cpu_count() or 1))


def default_idle_seconds() -> float:
    try:
        return max(0.1, float(os.environ.get("SUBTITLER_PROBE_IDLE_SECONDS") or IDLE_SECONDS))
    except ValueError:
        return IDLE_SECONDS


def probe_paths(paths: list[str]) -> list[str]:
    """Run in a child: per path, JSON text of a MediaInfo (`external_subtitles` empty: the
    parent has them) or `{"error_code", "error", "status"}` (see `failure_of`)."""
    out: list[str] = []
    for path in paths:
        try:
            out.append(probe_file(path, sidecars=[]).model_dump_json())
        except SubtitlerError as exc:
            out.append(_failure(exc.code, exc.detail, exc.status))
        except Exception as exc:  # a probe must never take a scan down
            out.append(_failure("probe_failed", f"{type(exc).__name__}: {exc}", 422))
    return out


def _failure(code: str, detail: str, status: int) -> str:
    return json.dumps({"error_code": code, "error": detail, "status": status})


def error_of(text: str) -> SubtitlerError | None:
    """The error a failure's JSON text stands for (NotMedia for `not_media`), None for media."""
    if '"error_code"' not in text:  # cannot occur inside a JSON string value (quotes escaped)
        return None
    data = json.loads(text)
    code, detail = str(data["error_code"]), str(data.get("error", ""))
    if code == NotMedia.code:
        return NotMedia(detail)
    return SubtitlerError(detail, code=code, status=int(data.get("status") or 422))


class ProbeProcesses:
    def __init__(self, processes: int | None = None, idle_seconds: float | None = None) -> None:
        self.processes = processes or default_processes()
        self.idle_seconds = default_idle_seconds() if idle_seconds is None else idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._last_used = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._warned = False
        self._generation = 0  # +1 at each close: what was running then is not retried
        self.started_pools = 0  # how many times children were started (tests, the bench)

    @property
    def running(self) -> bool:
        return self._pool is not None

    def submit(self, paths: Sequence[str]) -> asyncio.Future[list[str]]:
        """Probe `paths` (one task: at most PER_TASK of them are best) in a child; the future
        gives their JSON texts, in order. A child that dies on a file fails only that file."""
        return asyncio.ensure_future(self._run(list(paths)))

    async def probe_json(self, paths: Sequence[str]) -> list[str]:
        """JSON text per path, in order, the work shared among the children."""
        chunks = [list(paths[i : i + PER_TASK]) for i in range(0, len(paths), PER_TASK)]
        done = await asyncio.gather(*(self._run(c) for c in chunks))
        return [text for chunk in done for text in chunk]

    async def probe(
        self, path: str | os.PathLike[str], *, sidecars: list[ExternalSubtitle] | None = None
    ) -> MediaInfo:
        """One file, as `probe_file` would answer (the same errors), probed in a child."""
        (text,) = await self._run([str(path)])
        error = error_of(text)
        if error is not None:
            raise error
        info = MediaInfo.model_validate_json(text)
        if sidecars is None:
            sidecars = await asyncio.to_thread(find_sidecars, Path(path))
        return info.with_sidecars(sidecars)

    async def _run(self, paths: list[str]) -> list[str]:
        if not paths:
            return []
        self._busy += 1
        generation = self._generation
        try:
            try:
                pool = self._start()
            except OSError as exc:  # no processes here (a locked-down container): in a thread
                if not self._warned:
                    logger.warning("probe processes unavailable (%s): probing in threads", exc)
                    self._warned = True
                return await asyncio.to_thread(probe_paths, paths)
            try:
                return await asyncio.wrap_future(pool.submit(probe_paths, paths))
            except BrokenProcessPool:  # a child died: on one of these files, or killed
                self._drop(pool, kill=True)
            if generation != self._generation:  # closed meanwhile (the daemon stops)
                return [_failure(CRASHED, "probing stopped: the daemon is stopping", 503)] * len(
                    paths
                )
            if len(paths) == 1:
                logger.warning("the probe process died reading %s", paths[0])
                detail = f"The probe process died reading {paths[0]}: not a readable media file"
                return [_failure(CRASHED, detail, 422)]
            out: list[str] = []
            for path in paths:  # one at a time: only the file that kills a child fails
                out.extend(await self._run([path]))
            return out
        finally:
            self._busy -= 1
            self._last_used = time.monotonic()
            self._arm_idle_stop()

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            from subtitler.security.spawn import make_spawn_safe

            make_spawn_safe()  # the child must not re-run an unguarded entry script
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=multiprocessing.get_context("spawn")
            )
            self.started_pools += 1
        return self._pool

    def _arm_idle_stop(self) -> None:
        if self._idle_timer is not None or self._pool is None:
            return
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_later(self.idle_seconds, self._idle_check)

    def _idle_check(self) -> None:
        self._idle_timer = None
        if self._pool is None:
            return
        quiet_for = time.monotonic() - self._last_used
        if self._busy == 0 and quiet_for >= self.idle_seconds:
            logger.debug("probe processes idle for %.0f s: stopping them", quiet_for)
            self._drop(self._pool)
        else:
            loop = asyncio.get_running_loop()
            wait = max(0.1, self.idle_seconds - quiet_for)
            self._idle_timer = loop.call_later(wait, self._idle_check)

    def _drop(self, pool: ProcessPoolExecutor, *, kill: bool = False) -> None:
        if self._pool is pool:
            self._pool = None
        _shut(pool, kill=kill)

    def close(self) -> None:
        """Stop the children now (a daemon's stop: never waits on a child stuck on a file)."""
        self._generation += 1
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        pool, self._pool = self._pool, None
        if pool is not None:
            _shut(pool, kill=True)


def _shut(pool: ProcessPoolExecutor, *, kill: bool) -> None:
    """Idle children exit on their own; `kill`: now, even one stuck on a hung network share
    (it would hold the daemon's exit)."""
    children: dict[Any, Any] = dict(getattr(pool, "_processes", None) or {})
    pool.shutdown(wait=False, cancel_futures=True)
    if kill:
        for child in children.values():
            if child.is_alive():
                child.terminate()
