"""The probe cache: one `media_probes` row per file, keyed by (path, size, mtime_ns).

A rescan probes only new or changed files. The cache of a library folder is read in ONE query
(a range over the primary key), new probes are written in batches, and probing runs in the
probe processes (`subtitler.media.probe_processes`: PyAV never loads in the daemon), which a
scan keeps busy ahead of the batch it stores (`prefetch`). A file that is not media is cached
too (as an error), so a broken file costs one probe, not one per scan.
Sidecars are not part of the key: callers attach the folder's current sidecars to a cached
MediaInfo.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, delete, or_, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite

from subtitler.db import Database
from subtitler.db.models import MediaProbe, utcnow
from subtitler.media.probe import MediaInfo
from subtitler.media.probe_processes import PER_TASK, ProbeProcesses
from subtitler.scanner.walker import MediaCandidate

logger = logging.getLogger(__name__)

WRITE_BATCH = 500


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


class ProbeCache:
    def __init__(self, db: Database, probes: ProbeProcesses) -> None:
        self._db = db
        self.probe_processes = probes
        # path -> (its probe task, its place in the task's answer): see `prefetch`
        self._pending: dict[str, tuple[asyncio.Future[list[str]], int]] = {}
        self.probes = 0  # files actually probed since start (tests and the bench count them)

    def prefetch(self, candidates: Iterable[MediaCandidate]) -> None:
        """Hand files to the probe processes now: they work while the scan stores and plans
        the batch before (`probe_many` collects them)."""
        paths = [c.path for c in candidates if c.path not in self._pending]
        for i in range(0, len(paths), PER_TASK):
            chunk = paths[i : i + PER_TASK]
            future = self.probe_processes.submit(chunk)
            for j, path in enumerate(chunk):
                self._pending[path] = (future, j)

    def forget_pending(self) -> None:
        """Drop what was prefetched and not collected (a scan that ended early). Not cancelled:
        one task may also serve a batch being collected; the rest end within a task's time."""
        self._pending.clear()

    def close(self) -> None:
        self.forget_pending()

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
        self, candidates: Sequence[MediaCandidate]
    ) -> list[MediaInfo | ProbeFailure]:
        """Probe (what `prefetch` started, and the rest), results in input order with the
        candidates' sidecars, and store them in batches."""
        results: list[MediaInfo | ProbeFailure] = []
        for start in range(0, len(candidates), WRITE_BATCH):
            batch = candidates[start : start + WRITE_BATCH]
            self.prefetch(batch)
            entries = [self._pending.pop(c.path) for c in batch]
            await asyncio.gather(*{id(f): f for f, _ in entries}.values())
            texts = [future.result()[j] for future, j in entries]

            def decode_all(
                batch: Sequence[MediaCandidate] = batch, texts: list[str] = texts
            ) -> list[MediaInfo | ProbeFailure]:
                out: list[MediaInfo | ProbeFailure] = []
                for cand, text in zip(batch, texts, strict=True):
                    result = decode(text)
                    if isinstance(result, MediaInfo):
                        result.external_subtitles = cand.sidecars  # a fresh object
                    elif result.code in ("probe_failed", "probe_crashed"):
                        logger.warning("probe of %s failed: %s", cand.path, result.detail)
                    out.append(result)
                return out

            done = await asyncio.to_thread(decode_all)
            self.probes += len(batch)
            await self.store(list(zip(batch, done, strict=True)))
            results.extend(done)
        return results

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
