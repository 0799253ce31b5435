"""The probe cache: one `media_probes` row per file, keyed by (path, size, mtime_ns).

A rescan probes only new or changed files. The cache of a library folder is read in ONE query
(a range over the primary key), new probes are written in batches, and probing runs in a thread
pool so the event loop never waits on a file (PyAV opens a file without the GIL). With
`SUBTITLER_PROBE_PROCESSES=N` (N >= 2), a scan with many files to probe (a first scan) uses N
worker processes instead, for that scan only (`probe_pool`): off by default, as on a busy 2-core
machine they measured 2-3x slower than the threads (their start-up, fewer runnable threads). A
file that is not media is cached too (as an error), so a broken file costs one probe, not one
per scan.
Sidecars are not part of the key: callers attach the folder's current sidecars to a cached
MediaInfo.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, delete, or_, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite

from subtitler.db import Database
from subtitler.db.models import MediaProbe, utcnow
from subtitler.errors import SubtitlerError
from subtitler.media.probe import MediaInfo, probe_file
from subtitler.scanner.probe_pool import probe_paths
from subtitler.scanner.walker import MediaCandidate
from subtitler.security.spawn import make_spawn_safe

logger = logging.getLogger(__name__)

WRITE_BATCH = 500
PROBE_THREADS = min(4, os.cpu_count() or 2)  # probes hold the GIL much of the time
PROBE_PROCESSES = int(os.environ.get("SUBTITLER_PROBE_PROCESSES") or 0)  # 0, 1: threads only
PROCESS_MIN_FILES = 1000  # files to probe for a scan to start processes (~0.3 s, 0.5 s CPU)
_PER_TASK = 100  # files per process task (each hand-over costs a few thread wake-ups)
_SPAWN = multiprocessing.get_context("spawn")  # the daemon has threads: no fork


@dataclass(frozen=True)
class CachedProbe:
    size: int
    mtime_ns: int
    info_json: str  # decoded lazily (off the loop) by `decode`


@dataclass(frozen=True)
class ProbeFailure:
    code: str
    detail: str


def prefix_range(root: str) -> tuple[str, str]:
    """[low, high) bounds of every path strictly under `root` (`/` + 1 is `0`)."""
    base = root.rstrip("/") + "/"
    return base, base[:-1] + "0"


def decode(info_json: str | dict[str, Any]) -> MediaInfo | ProbeFailure:
    """A cached row's MediaInfo (pydantic's JSON parser: ~15 us) or the failure it recorded.

    `"error_code"` cannot occur inside a JSON string value (its quotes would be escaped). The
    PostgreSQL driver may hand the JSON column back already decoded: that is taken as it is."""
    if isinstance(info_json, dict):
        if "error_code" in info_json:
            return ProbeFailure(
                code=info_json["error_code"], detail=str(info_json.get("error", ""))
            )
        return MediaInfo.model_validate(info_json)
    if '"error_code"' in info_json:
        data = json.loads(info_json)
        return ProbeFailure(code=data["error_code"], detail=data.get("error", ""))
    return MediaInfo.model_validate_json(info_json)


def _probe_one(candidate: MediaCandidate) -> MediaInfo | ProbeFailure:
    try:
        return probe_file(candidate.path, sidecars=candidate.sidecars)
    except SubtitlerError as exc:
        return ProbeFailure(code=exc.code, detail=exc.detail)
    except Exception as exc:  # a probe must never take a scan down
        logger.warning("probe of %s failed: %s", candidate.path, exc)
        return ProbeFailure(code="probe_failed", detail=f"{type(exc).__name__}: {exc}")


class ProbeCache:
    def __init__(
        self, db: Database, *, threads: int = PROBE_THREADS, processes: int = PROBE_PROCESSES
    ) -> None:
        self._db = db
        self._threads = threads
        self._processes = processes
        self._pool: ThreadPoolExecutor | None = None
        self._procs: ProcessPoolExecutor | None = None
        # path -> (its process task, its place in the task's answer): see `prefetch`
        self._pending: dict[str, tuple[asyncio.Future[list[str]], int]] = {}
        self.probes = 0  # files actually probed since start (tests and the bench count them)

    def wants_processes(self, files: int) -> bool:
        """Whether probing `files` files is worth starting worker processes."""
        return self._processes > 1 and files >= PROCESS_MIN_FILES

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._procs is None:
            make_spawn_safe()  # the child must not re-run an unguarded entry script
            self._procs = ProcessPoolExecutor(max_workers=self._processes, mp_context=_SPAWN)
        return self._procs

    async def release_processes(self) -> None:
        """Stop the probe processes (a scan's own: nothing stays running after it)."""
        self._drop_pending()
        procs, self._procs = self._procs, None
        if procs is not None:
            await asyncio.to_thread(procs.shutdown, True, cancel_futures=True)

    @property
    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="probe")
        return self._pool

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        procs, self._procs = self._procs, None
        if procs is not None:
            procs.shutdown(wait=False, cancel_futures=True)

    async def load(self, roots: Iterable[str]) -> dict[str, CachedProbe]:
        """Every cached probe under `roots`, in one query."""
        ranges = [prefix_range(r) for r in roots]
        if not ranges:
            return {}
        cond = or_(*((MediaProbe.path >= low) & (MediaProbe.path < high) for low, high in ranges))
        stmt = select(
            MediaProbe.path,
            MediaProbe.size,
            MediaProbe.mtime_ns,
            type_coerce(MediaProbe.info, Text),  # raw JSON text: decoded off the loop
        ).where(cond)
        async with self._db.read() as session:
            conn = await session.connection()  # Core rows: no ORM loading per row
            rows = (await conn.execute(stmt)).all()
        return {path: CachedProbe(size, mtime, info) for path, size, mtime, info in rows}

    async def load_paths(self, paths: Sequence[str]) -> dict[str, CachedProbe]:
        """The cached probes of `paths` (a few changed files of a rescan)."""
        found: dict[str, CachedProbe] = {}
        async with self._db.read() as session:
            conn = await session.connection()
            for start in range(0, len(paths), WRITE_BATCH):
                stmt = select(
                    MediaProbe.path,
                    MediaProbe.size,
                    MediaProbe.mtime_ns,
                    type_coerce(MediaProbe.info, Text),
                ).where(MediaProbe.path.in_(paths[start : start + WRITE_BATCH]))
                for path, size, mtime, info in await conn.execute(stmt):
                    found[path] = CachedProbe(size, mtime, info)
        return found

    async def paths(self, roots: Iterable[str]) -> set[str]:
        """The paths of every cached probe under `roots` (no probe data)."""
        ranges = [prefix_range(r) for r in roots]
        if not ranges:
            return set()
        cond = or_(*((MediaProbe.path >= low) & (MediaProbe.path < high) for low, high in ranges))
        async with self._db.read() as session:
            conn = await session.connection()
            return set((await conn.execute(select(MediaProbe.path).where(cond))).scalars())

    async def load_one(self, path: str) -> CachedProbe | None:
        stmt = select(
            MediaProbe.size, MediaProbe.mtime_ns, type_coerce(MediaProbe.info, Text)
        ).where(MediaProbe.path == path)
        async with self._db.read() as session:
            row = (await session.execute(stmt)).first()
        return CachedProbe(row[0], row[1], row[2]) if row else None

    async def probe_many(
        self, candidates: Sequence[MediaCandidate], *, processes: bool = False
    ) -> list[MediaInfo | ProbeFailure]:
        """Probe in the thread pool, or in worker processes (`processes`: see `wants_processes`),
        results in input order, and store them in batches."""
        loop = asyncio.get_running_loop()
        results: list[MediaInfo | ProbeFailure] = []
        for start in range(0, len(candidates), WRITE_BATCH):
            batch = candidates[start : start + WRITE_BATCH]
            done: list[MediaInfo | ProbeFailure] | None = None
            if processes and self._processes > 1:
                done = await self._probe_in_processes(batch)
            if done is None:
                done = await asyncio.gather(
                    *(loop.run_in_executor(self._executor, _probe_one, c) for c in batch)
                )
            self.probes += len(batch)
            await self.store(list(zip(batch, done, strict=True)))
            results.extend(done)
        return results

    def prefetch(self, candidates: Sequence[MediaCandidate]) -> None:
        """Hand every file of a scan to the worker processes at once: they stay busy while the
        scan stores and plans each batch (`probe_many(..., processes=True)` collects them)."""
        try:
            pool = self._process_pool()
        except OSError as exc:  # no processes here (a locked-down container): threads from now
            logger.warning("probe processes unavailable (%s): probing in threads", exc)
            self._processes = 1
            return
        loop = asyncio.get_running_loop()
        paths = [c.path for c in candidates if c.path not in self._pending]
        for i in range(0, len(paths), _PER_TASK):
            chunk = paths[i : i + _PER_TASK]
            future = loop.run_in_executor(pool, probe_paths, chunk)
            for j, path in enumerate(chunk):
                self._pending[path] = (future, j)

    def _drop_pending(self) -> None:
        for future, _ in self._pending.values():
            future.cancel()
        self._pending.clear()

    async def _probe_in_processes(
        self, batch: Sequence[MediaCandidate]
    ) -> list[MediaInfo | ProbeFailure] | None:
        """The batch probed by the worker processes; None when the pool broke (a child died:
        its files are probed in threads instead)."""
        self.prefetch([c for c in batch if c.path not in self._pending])
        if self._processes <= 1 or self._procs is None:
            return None
        entries = [self._pending.pop(c.path) for c in batch]
        try:
            await asyncio.gather(*{id(f): f for f, _ in entries}.values())
            texts: list[str] = [future.result()[j] for future, j in entries]
        except (BrokenProcessPool, OSError) as exc:  # a child died, or none could start
            logger.warning("probe processes failed (%r): %d file(s) in threads", exc, len(batch))
            self._drop_pending()
            pool, self._procs = self._procs, None
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            if isinstance(exc, OSError):
                self._processes = 1
            return None

        def decode_all() -> list[MediaInfo | ProbeFailure]:
            out: list[MediaInfo | ProbeFailure] = []
            for cand, text in zip(batch, texts, strict=True):
                result = decode(text)
                if isinstance(result, MediaInfo):
                    result.external_subtitles = cand.sidecars  # a fresh object
                elif result.code == "probe_failed":
                    logger.warning("probe of %s failed: %s", cand.path, result.detail)
                out.append(result)
            return out

        return await asyncio.to_thread(decode_all)

    async def store(self, items: Sequence[tuple[MediaCandidate, MediaInfo | ProbeFailure]]) -> None:
        if not items:
            return
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for cand, result in items:
            if isinstance(result, ProbeFailure):
                info: dict[str, Any] = {"error_code": result.code, "error": result.detail}
            else:
                info = result.model_dump(mode="json", exclude={"external_subtitles"})
            rows.append(
                {
                    "path": cand.path,
                    "size": cand.size,
                    "mtime_ns": cand.mtime_ns,
                    "info": info,
                    "probed_at": now,
                }
            )
        dialect = sqlite if self._db.is_sqlite else postgresql
        stmt = dialect.insert(MediaProbe)
        stmt = stmt.on_conflict_do_update(
            index_elements=[MediaProbe.path],
            set_={
                "size": stmt.excluded.size,
                "mtime_ns": stmt.excluded.mtime_ns,
                "info": stmt.excluded.info,
                "probed_at": stmt.excluded.probed_at,
            },
        )
        async with self._db.write() as session:
            await session.execute(stmt, rows)

    async def prune(self, paths: Iterable[str]) -> int:
        """Forget files that are gone."""
        gone = list(paths)
        for start in range(0, len(gone), WRITE_BATCH):
            async with self._db.write() as session:
                await session.execute(
                    delete(MediaProbe).where(MediaProbe.path.in_(gone[start : start + WRITE_BATCH]))
                )
        return len(gone)
