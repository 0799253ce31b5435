"""The library as the scanner and the rule preview see it: media files (probed through the cache,
with their current sidecars), why other files were skipped, and what subtitler already did.

`collect` walks in a thread, loads the probe cache of the roots in one query, decodes it off the
event loop, and probes only new or changed files. `history` reads, in two queries per call, the
(target, task) pairs subtitler already produced per file (written subtitles + completed jobs) and
the dedup keys of live jobs, so a rescan never tries to insert a job the queue already holds.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, or_, select

from subtitler.db import Database
from subtitler.db.models import Job, WrittenSubtitle
from subtitler.errors import BadRequest, NotFound
from subtitler.jobs.states import FORCED, JobStatus, JobType, Task
from subtitler.library.verdict import FileState, LiveJob
from subtitler.media.probe import MediaInfo
from subtitler.media.probe_processes import ProbeProcesses
from subtitler.media.sidecars import find_sidecars
from subtitler.scanner.cache import (
    CachedProbe,
    ProbeCache,
    ProbeFailure,
    decode,
    prefix_range,
)
from subtitler.scanner.walker import MediaCandidate, WalkOptions, WalkStats, walk

logger = logging.getLogger(__name__)

Produced = dict[str, set[tuple[str | None, str]]]
BatchHandler = Callable[[list[MediaInfo]], Awaitable[None]]
# Given every file a walk found: the paths its caller took care of itself (unchanged files), and
# those to probe again whatever the cache says (replaced in place: same size and mtime, new inode)
UnchangedHandler = Callable[[list[MediaCandidate]], Awaitable[tuple[set[str], set[str]]]]
DedupKey = tuple[str, str, str]
GONE_REASON = "media file gone"  # how the watcher's cancels start: they never block a new job
PROBE_BATCH = 250  # files probed (and handed to the scan) at a time
PREFETCH = 2000  # files handed to the probe processes ahead (their answers wait in memory)
_LIVE = (JobStatus.QUEUED, JobStatus.PROCESSING, JobStatus.COMPLETED)
LANGUAGE_SKIP = "rule_language_mismatch"


@dataclass
class History:
    """What subtitler already did for a set of files.

    - produced: per file, the (target, task) pairs it wrote (written subtitles, completed jobs);
    - active: dedup keys of queued/processing/completed jobs (the queue refuses these anyway);
    - ended: dedup key -> creation time (ns) of its latest failed or cancelled job. A scan does
      not re-create such a job for a file unchanged since (a poison file must not loop, a user's
      cancel must stick); a file replaced or modified afterwards is queued again.
    - done_at: per file, when subtitler last finished a subtitle for it (ns); ours_paths: per file,
      the subtitle files subtitler wrote; completed: dedup keys active only through a completed job.
      A file modified after `done_at` (an upgrade that kept the name) is planned afresh:
      see `forget_stale`.
    """

    produced: Produced = field(default_factory=dict)
    active: set[DedupKey] = field(default_factory=set)
    ended: dict[DedupKey, int] = field(default_factory=dict)
    # For the verdict (subtitler.library.verdict): our subtitles' languages, the queued or
    # processing job, and the audio languages jobs detected (audio track -> language).
    ours: dict[str, set[str]] = field(default_factory=dict)
    live: dict[str, LiveJob] = field(default_factory=dict)
    detected: dict[str, dict[int | None, str]] = field(default_factory=dict)

    def state(self, path: str) -> FileState:
        return FileState(
            produced=self.produced.get(path, set()),
            ours=self.ours.get(path, set()),
            live=self.live.get(path),
            detected=self.detected.get(path, {}),
        )

    done_at: dict[str, int] = field(default_factory=dict)
    ours_paths: dict[str, set[str]] = field(default_factory=dict)
    completed: set[DedupKey] = field(default_factory=set)

    def forget_stale(self, media: Iterable[MediaInfo]) -> list[str]:
        """Files modified after subtitler's subtitle was written (an upgrade that kept the file
        name, Sonarr/Radarr's usual naming): what subtitler wrote for the old file no longer
        counts, so the rules decide again and a new job overwrites subtitler's own (unedited)
        subtitle. A user's own subtitles still count. Returns the paths so treated."""
        stale: list[str] = []
        for info in media:
            done = self.done_at.get(info.path)
            if done is None or info.mtime_ns <= done:
                continue
            stale.append(info.path)
            self.produced.pop(info.path, None)
            self.active -= {k for k in self.completed if k[0] == info.path}
            self.ours.pop(info.path, None)  # the verdict: our subtitle is the old file's
            ours = self.ours_paths.get(info.path, set())
            info.external_subtitles = [
                s for s in info.external_subtitles if str(s.path) not in ours
            ]
        return stale

    def holds(self, key: DedupKey, *, mtime_ns: int) -> str | None:
        """Why a request with `key` for a file of `mtime_ns` needs no new job (None: it does)."""
        if key in self.active:
            return "queued"
        ended = self.ended.get(key)
        if ended is not None and mtime_ns <= ended:
            return "ended"
        return None


@dataclass
class Inventory:
    roots: list[str]
    media: list[MediaInfo] = field(default_factory=list)
    failures: dict[str, ProbeFailure] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)  # taken by the caller: not decoded
    stats: WalkStats = field(default_factory=WalkStats)
    probed: int = 0
    cached: int = 0


# A forced subtitle job (issue 22) reads as the task "forced": its output is another file.
_TASK = case((Job.variant == FORCED, FORCED), else_=Job.transcribe_or_translate)


def _variant(task: str | None) -> str:
    return FORCED if task == FORCED else ""


def _ns(when: datetime) -> int:
    """A naive UTC database time as ns since the epoch (file mtimes' unit)."""
    return int(when.replace(tzinfo=UTC).timestamp() * 1e9)


def check_roots(paths: Sequence[str]) -> list[str]:
    """Absolute, existing folders (400 otherwise), normalised and without duplicates."""
    roots: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_absolute():
            raise BadRequest(f"Path is not absolute: {raw}", code="path_not_absolute")
        if not path.is_dir():
            raise BadRequest(f"Path is not a folder: {raw}", code="not_a_directory")
        text = os.path.normpath(str(path))
        if text not in roots:
            roots.append(text)
    return roots


def _split_cached(
    found: list[MediaCandidate], cached: dict[str, CachedProbe]
) -> tuple[list[MediaInfo | ProbeFailure | None], list[int]]:
    """Decode what the cache holds for unchanged files; the indexes of files to probe."""
    results: list[MediaInfo | ProbeFailure | None] = []
    todo: list[int] = []
    for i, cand in enumerate(found):
        hit = cached.get(cand.path)
        result: MediaInfo | ProbeFailure | None = None
        if hit is not None and (hit.size, hit.mtime_ns) == (cand.size, cand.mtime_ns):
            try:
                result = decode(hit.info_json)
            except ValueError:  # an older cache format: probe again
                result = None
        if isinstance(result, MediaInfo):
            result.external_subtitles = cand.sidecars  # a fresh object: no copy needed
        if result is None:
            todo.append(i)
        results.append(result)
    return results, todo


async def _drain(batches: asyncio.Queue[list[MediaInfo] | None], handler: BatchHandler) -> None:
    while (batch := await batches.get()) is not None:
        if batch:
            await handler(batch)


class MediaLibrary:
    def __init__(self, db: Database, settings: Any, probes: ProbeProcesses) -> None:
        self._db = db
        self._settings = settings
        self.cache = ProbeCache(db, probes)

    async def resolve_roots(self, paths: Sequence[str] | None) -> list[str]:
        """The given folders, else `library_paths`; 400 when there are none or one is no folder."""
        chosen = list(paths) if paths else list(self._settings.get("library_paths") or [])
        if not chosen:
            raise BadRequest("No library paths configured", code="no_library_paths")
        return await asyncio.to_thread(check_roots, chosen)

    def walk_options(self, *, recursive: bool = True) -> WalkOptions:
        return WalkOptions.from_settings(self._settings, recursive=recursive)

    async def collect(
        self,
        roots: Sequence[str],
        *,
        recursive: bool = True,
        on_batch: BatchHandler | None = None,
        unchanged: UnchangedHandler | None = None,
        walked: tuple[list[MediaCandidate], WalkStats] | None = None,
    ) -> Inventory:
        """Walk, reuse the cache, probe the rest. `unchanged(found)` first takes the files its
        caller knows unchanged (neither decoded nor handed on: `inv.unchanged`); `on_batch(media)`
        gets the other cached files, then each probed batch, in a task of its own: a scan creates
        the jobs of one batch while the next is being probed. `walked`: `walk`'s result, when the
        caller ran it already (alongside its own queries)."""
        inv = Inventory(roots=list(roots))
        if walked is None:
            walked = await self.walk(roots, recursive=recursive)
        every, inv.stats = walked
        found = every
        replaced: set[str] = set()
        if unchanged is not None and every:
            same, replaced = await unchanged(every)
            if same:
                inv.unchanged = [c.path for c in every if c.path in same]
                found = [c for c in every if c.path not in same]
        if len(found) * 4 >= len(every):  # most files need their probe: one range query
            cached = await self.cache.load(roots)
            known: Iterable[str] = cached
        else:  # a rescan: only the changed files' probes, and the paths (to forget the gone)
            cached = await self.cache.load_paths([c.path for c in found])
            known = await self.cache.paths(roots) if recursive else ()
        for path in replaced:
            cached.pop(path, None)
        results, todo = await asyncio.to_thread(_split_cached, found, cached)
        batches: asyncio.Queue[list[MediaInfo] | None] = asyncio.Queue()
        consumer = (
            asyncio.get_running_loop().create_task(_drain(batches, on_batch)) if on_batch else None
        )
        try:
            batches.put_nowait([r for r in results if isinstance(r, MediaInfo)])
            for start in range(0, len(todo), PROBE_BATCH):
                # the probe processes work PREFETCH files ahead of the batch being stored
                self.cache.prefetch(found[i] for i in todo[start : start + PREFETCH])
                chunk = todo[start : start + PROBE_BATCH]
                probed = await self.cache.probe_many([found[i] for i in chunk])
                for i, fresh in zip(chunk, probed, strict=True):
                    results[i] = fresh
                batches.put_nowait([r for r in probed if isinstance(r, MediaInfo)])
            batches.put_nowait(None)
            if consumer is not None:
                await consumer
        finally:
            if consumer is not None and not consumer.done():
                consumer.cancel()
            self.cache.forget_pending()
        inv.probed, inv.cached = len(todo), len(every) - len(todo)
        for cand, result in zip(found, results, strict=True):
            if isinstance(result, MediaInfo):
                inv.media.append(result)
            elif result is not None:
                inv.failures[cand.path] = result
        if recursive:  # a full walk saw every file under the roots: forget the vanished ones
            seen = {c.path for c in every}
            await self.cache.prune(p for p in known if p not in seen)
        return inv

    async def walk(
        self, roots: Sequence[str], *, recursive: bool = True
    ) -> tuple[list[MediaCandidate], WalkStats]:
        """The media candidates under `roots` (in a thread) and the walk's counts."""
        options = self.walk_options(recursive=recursive)
        stats = WalkStats()
        found = await asyncio.to_thread(lambda: list(walk(roots, options=options, stats=stats)))
        return found, stats

    async def media_one(self, path: str) -> MediaInfo | ProbeFailure:
        """One file (the watcher's): from the cache when unchanged, else probed and stored."""

        def candidate() -> MediaCandidate:
            try:
                st = Path(path).stat()
            except FileNotFoundError:
                raise NotFound(f"File not found: {path}") from None
            return MediaCandidate(
                path=path,
                size=st.st_size,
                mtime_ns=st.st_mtime_ns,
                sidecars=find_sidecars(path),
                inode=st.st_ino,
            )

        cand = await asyncio.to_thread(candidate)
        hit = await self.cache.load_one(path)
        if hit is not None and (hit.size, hit.mtime_ns) == (cand.size, cand.mtime_ns):
            result = decode(hit.info_json)
            return result.with_sidecars(cand.sidecars) if isinstance(result, MediaInfo) else result
        return (await self.cache.probe_many([cand]))[0]

    async def history(self, *, roots: Iterable[str] = (), paths: Iterable[str] = ()) -> History:
        """What subtitler did for the files under `roots` or in `paths` (two queries)."""
        ranges = [prefix_range(r) for r in roots]
        exact = list(paths)

        def where(column: Any) -> Any:
            parts = [and_(column >= low, column < high) for low, high in ranges]
            if exact:
                parts.append(column.in_(exact))
            return or_(*parts) if parts else column.is_(None)

        hist = History()
        jobs = select(
            Job.file_path,
            Job.target_lang,
            _TASK,
            Job.status,
            Job.created_at,
            Job.error,
            Job.id,
            Job.rule_name,
            Job.source_lang,
            Job.error_code,
            Job.options["audio_track"].as_integer(),  # not the whole JSON: one value
            Job.completed_at,
            Job.job_type,
        )
        written = select(
            WrittenSubtitle.media_path,
            WrittenSubtitle.language,
            Job.target_lang,
            _TASK,
            WrittenSubtitle.path,
            WrittenSubtitle.written_at,
        ).outerjoin(Job, Job.id == WrittenSubtitle.job_id)
        async with self._db.read() as session:
            conn = await session.connection()  # Core rows: no ORM loading per row
            job_rows = (
                await conn.execute(jobs.where(where(Job.file_path)).order_by(Job.created_at))
            ).all()
            written_rows = (
                await conn.execute(written.where(where(WrittenSubtitle.media_path)))
            ).all()
        for (
            path,
            target,
            task,
            status,
            created,
            error,
            job_id,
            rule,
            source,
            code,
            track,
            completed,
            job_type,
        ) in job_rows:
            key = (path, target or "", _variant(task))  # the output, whatever the task
            if status in (JobStatus.QUEUED, JobStatus.PROCESSING):
                hist.live[path] = LiveJob(id=job_id, status=status, rule_name=rule)
            heard = job_type != JobType.SUBTITLE_TRANSLATION  # else source is the subtitle's
            if source and heard and (status == JobStatus.COMPLETED or code == LANGUAGE_SKIP):
                hist.detected.setdefault(path, {})[track if isinstance(track, int) else None] = (
                    source
                )
            if status in _LIVE:
                hist.active.add(key)
                if status == JobStatus.COMPLETED:
                    hist.produced.setdefault(path, set()).add((target, task))
                    hist.completed.add(key)
                    hist.done_at[path] = max(_ns(completed or created), hist.done_at.get(path, 0))
            elif not (error or "").startswith(GONE_REASON) and code != LANGUAGE_SKIP:
                # failed, or cancelled by a user (a language mismatch is no poison: with the
                # detected language the rules see the file as it is, another rule may want it)
                ns = int(created.replace(tzinfo=UTC).timestamp() * 1e9)
                hist.ended[key] = max(ns, hist.ended.get(key, 0))
        live: set[DedupKey] = set()
        for path, target, task, status, *_ in job_rows:  # a live job wins over a completed one
            if status in (JobStatus.QUEUED, JobStatus.PROCESSING):
                live.add((path, target or "", _variant(task)))
        hist.completed -= live
        for media_path, language, target, task, sub_path, written_at in written_rows:
            if media_path is None:
                continue
            hist.ours_paths.setdefault(media_path, set()).add(sub_path)
            hist.done_at[media_path] = max(_ns(written_at), hist.done_at.get(media_path, 0))
            done = hist.produced.setdefault(media_path, set())
            if task is not None:
                done.add((target, task))
            if language and task != FORCED:  # the file exists in this language, any task
                hist.ours.setdefault(media_path, set()).add(language)
                tasks = (task,) if task else (Task.TRANSCRIBE, Task.TRANSLATE)
                done.update((language, t) for t in tasks)
        return hist
