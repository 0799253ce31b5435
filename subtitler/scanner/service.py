"""The scanner: scan library folders (rules -> jobs), analyse one file, and act on the watcher's
files. The scheduler and watcher are driven from settings by `ScanControl` (control.py).

One scan at a time: a request for the same folders while a scan runs JOINS it (gets the same
result, so a scheduled scan and a click on "Scan now" never walk the library twice); a request
for other folders gets 409 `scan_in_progress`. Scan counters (`scanner_last_scan_time`,
`scanner_total_scans`) are settings, so they survive a restart and show in the settings API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select

from subtitler.db import Database
from subtitler.db.models import Job
from subtitler.errors import Conflict, SubtitlerError
from subtitler.events import EventBus
from subtitler.jobs.enqueue_checks import check_rows
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.states import JobStatus
from subtitler.library.index import LibraryIndex
from subtitler.library.verdict import LiveJob
from subtitler.media.probe import MediaInfo
from subtitler.rules.engine import JobRequest, UnknownLanguagePolicy
from subtitler.rules.service import RulesService
from subtitler.scanner.cache import ProbeFailure, prefix_range
from subtitler.scanner.control import ScanControl
from subtitler.scanner.library import GONE_REASON, History, MediaLibrary
from subtitler.scanner.models import ScannerStatus, ScanResult
from subtitler.scanner.planner import (
    FileKey,
    PlanMemo,
    ScanMemo,
    Verdict,
    file_key,
    file_verdict,
    job_fields,
    plan,
    state_key,
)
from subtitler.scanner.walker import MediaCandidate, file_skip_reason, is_ignored
from subtitler.security.paths import allowed_path, check_allowed

logger = logging.getLogger(__name__)


class ScannerService:
    def __init__(
        self,
        *,
        db: Database,
        settings: Any,
        bus: EventBus,
        queue: JobQueue,
        rules: RulesService,
        library: MediaLibrary,
        index: LibraryIndex | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._bus = bus
        self._queue = queue
        self._rules = rules
        self.library = library
        self.index = index  # the Library page's table (subtitler/library), kept up to date here
        self.control = ScanControl(self, settings)
        self._current: asyncio.Task[ScanResult] | None = None
        self._current_key: tuple[tuple[str, ...], bool] | None = None
        self._memo = PlanMemo()
        self._files = ScanMemo()  # what the last scan saw per file: an unchanged rescan's key
        self._follower: asyncio.Task[None] | None = None
        self.last_result: ScanResult | None = None  # the last finished scan (System tasks)

    async def start(self) -> None:
        await self.control.start()
        self.follow_jobs()

    def follow_jobs(self) -> None:
        """Keep the Library's verdicts following the jobs (every full node, scanner duty or
        not: re-deciding a file is an idempotent upsert)."""
        if self.index is not None and self._follower is None:
            self._follower = asyncio.get_running_loop().create_task(
                self._follow_jobs(), name="library-follows-jobs"
            )

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
            self._follower = None
        await self.control.stop()
        task = self._current
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.library.cache.close()

    def status(self) -> dict[str, Any]:
        last = self._settings.get("scanner_last_scan_time") or None
        status = ScannerStatus(
            **self.control.status(),
            last_scan_time=last,
            total_scans=int(self._settings.get("scanner_total_scans") or 0),
            scan_in_progress=self._current is not None and not self._current.done(),
        )
        return status.model_dump()

    # --- scans --------------------------------------------------------------------------------
    async def scan(
        self, *, paths: Sequence[str] | None = None, recursive: bool = True, trigger: str = "manual"
    ) -> ScanResult:
        if paths:  # chosen folders: the same check as every other path (403 outside)
            paths = [check_allowed(p, self._settings.get, field="paths") for p in paths]
        roots = await self.library.resolve_roots(paths)
        key = (tuple(roots), recursive)
        current = self._current
        if current is not None and not current.done():
            if self._current_key == key:
                logger.info("a %s scan joins the running scan of the same folders", trigger)
                return await asyncio.shield(current)
            raise Conflict(
                "A scan of other folders is running; try again when it has finished",
                code="scan_in_progress",
            )
        task = asyncio.get_running_loop().create_task(self._scan(roots, recursive, trigger))
        self._current, self._current_key = task, key
        return await asyncio.shield(task)

    async def _scan(self, roots: list[str], recursive: bool, trigger: str) -> ScanResult:
        started = time.monotonic()
        self._bus.publish(
            "scan_started", {"paths": roots, "recursive": recursive, "trigger": trigger}
        )
        # the walk (a thread) runs alongside the queries: the rules, what subtitler did under
        # the roots, and the Library rows there (loaded once: rows are written where they differ)
        walked, rules, history, snap = await asyncio.gather(
            self.library.walk(roots, recursive=recursive),
            self._rules.list_rules(enabled_only=True),
            self.library.history(roots=roots),
            self.index.snapshot(roots=roots) if self.index else _none(),
        )
        policy = UnknownLanguagePolicy.from_settings(self._settings)
        counts = Counter[str]()
        self._memo.bind(rules, policy)
        self._files.bind(rules, policy, roots)
        ignored = snap.ignored if snap is not None else set()
        keys: dict[str, FileKey | None] = {}

        async def take_unchanged(found: list[MediaCandidate]) -> tuple[set[str], set[str]]:
            """Files whose key and Library row are what the last scan left: their verdict is
            reused (no probe decoded, no rule evaluated, nothing written). Also the files
            replaced in place (a new inode, same size and mtime): probed again."""
            replaced: set[str] = set()

            def pick() -> tuple[set[str], list[JobRequest], int, int, dict[str, int]]:
                same: set[str] = set()
                requests: list[JobRequest] = []
                matched = already = 0
                mtimes: dict[str, int] = {}
                for cand in found:
                    path = cand.path
                    key = keys[path] = file_key(cand, history)
                    row = snap.rows.get(path) if snap is not None else None
                    verdict = self._files.unchanged(path, key, row)
                    if verdict is None or (snap is not None and row is None):
                        if self._files.replaced(cand):
                            replaced.add(path)
                        continue
                    same.add(path)
                    if path in ignored:
                        continue
                    if verdict[0]:
                        requests.extend(verdict[0])
                        mtimes[path] = cand.mtime_ns
                    matched += verdict[1]
                    already += verdict[2]
                return same, requests, matched, already, mtimes

            same, requests, matched, already, mtimes = await asyncio.to_thread(pick)
            if same:
                created, held = await self._enqueue(requests, history, mtimes)
                self._note_live(history, created)
                counts.update(held, matched=matched, already=already, created=len(created))
            return same, replaced

        async def on_batch(media: list[MediaInfo]) -> None:
            history.forget_stale(media)  # replaced since subtitler wrote: plan afresh

            def decide_all() -> dict[str, Verdict]:
                return {
                    m.path: file_verdict(
                        rules, m, history.produced, policy, self._memo, detected=history.detected
                    )
                    for m in media
                }

            verdicts = await asyncio.to_thread(decide_all)
            requests: list[JobRequest] = []
            for m in media:
                if m.path not in ignored:
                    verdict = verdicts[m.path]
                    requests.extend(verdict[0])
                    counts.update(matched=verdict[1], already=verdict[2])
            mtimes = {m.path: m.mtime_ns for m in media}
            created, held = await self._enqueue(requests, history, mtimes)
            self._note_live(history, created)  # the rows name the jobs just queued
            counts.update(held, created=len(created))
            if self.index is not None:
                await self.index.record(
                    media, rules=rules, history=history, policy=policy, roots=roots, snapshot=snap
                )
            for m in media:
                key = keys.get(m.path)
                if key is not None:  # the state as the next scan will load it
                    key = (*key[:4], *state_key(history, m.path))
                    row = snap.rows.get(m.path) if snap is not None else None
                    self._files.put(m.path, key, verdicts[m.path], row)

        inv = await self.library.collect(
            roots, recursive=recursive, on_batch=on_batch, unchanged=take_unchanged, walked=walked
        )
        if self.index is not None:
            await self.index.record_failures(inv.failures, roots=roots, snapshot=snap)
            if recursive:
                seen = {m.path for m in inv.media} | set(inv.failures) | set(inv.unchanged)
                await self.index.prune(roots=roots, seen=seen, snapshot=snap)
        if recursive:  # files no longer there (or no longer media) leave the memo
            self._files.forget_unseen(roots, seen=keys.keys() - inv.failures.keys())
        matched, created = counts["matched"], counts["created"]
        skipped = Counter(inv.stats.skipped)
        for failure in inv.failures.values():
            skipped["not_media" if failure.code == "not_media" else "probe_failed"] += 1
        media_files = len(inv.media) + len(inv.unchanged)
        if media_files > matched:
            skipped["no_rule_matched"] += media_files - matched
        result = ScanResult(
            scanned_files=media_files + len(inv.failures),
            matched_files=matched,
            jobs_created=created,
            skipped_files=sum(skipped.values()),
            paths_scanned=roots,
            skipped=dict(sorted(skipped.items())),
            already_queued=counts["queued"],
            already_produced=counts["already"],
            previously_ended=counts["ended"],
            refused={k.split(":", 1)[1]: n for k, n in counts.items() if k.startswith("precheck:")},
            probed_files=inv.probed,
            cached_files=inv.cached,
            duration_seconds=round(time.monotonic() - started, 3),
            trigger=trigger,
            errors=inv.stats.errors[:50],
        )
        await self._settings.bulk_update(
            {
                "scanner_last_scan_time": datetime.now(UTC).isoformat(timespec="seconds"),
                "scanner_total_scans": int(self._settings.get("scanner_total_scans") or 0) + 1,
            }
        )
        self.last_result = result
        self._bus.publish("scan_finished", result.model_dump())
        logger.info(
            "%s scan of %s: %d files, %d matched, %d jobs created, %d probed in %.2f s",
            trigger, ", ".join(roots), result.scanned_files, matched, created, inv.probed,
            result.duration_seconds,
        )  # fmt: skip
        return result

    async def _enqueue(
        self, requests: Iterable[JobRequest], history: History, mtimes: dict[str, int],
        *, channel: str = "scan",
    ) -> tuple[list[Job], Counter[str]]:  # fmt: skip
        """(jobs created, requests needing none by reason). A live duplicate is not an error."""
        held = Counter[str]()
        rows = []
        for req in requests:
            why = history.holds(req.dedup_key, mtime_ns=mtimes.get(req.file_path, 0))
            if why is not None:
                held[why] += 1
                continue
            rows.append(job_fields(req, self._settings, channel=channel))
            history.active.add(req.dedup_key)
        rows, refused = await check_rows(rows, db=self._db, setting=self._settings.get)
        held.update({f"precheck:{code}": n for code, n in refused.items()})
        created, duplicates = await self._queue.enqueue_many(rows)
        held["queued"] += duplicates
        return created, held

    @staticmethod
    def _note_live(history: History, created: Iterable[Job]) -> None:
        """Jobs a scan just queued, as the next scan's history will hold them (the latest
        live job per file)."""
        for job in created:
            history.live[job.file_path] = LiveJob(
                id=job.id, status=job.status, rule_name=job.rule_name
            )

    # --- the Library follows the jobs ---------------------------------------------------------
    async def _follow_jobs(self) -> None:
        """A job created, started, finished, failed or cancelled changes its file's verdict:
        re-decide those files (batched up to 2 s) and say so (`library_updated`)."""
        sub = self._bus.subscribe({"job_created", "job_updated"})
        try:
            while True:
                event = await sub.get()
                paths: set[str] = set()
                until = time.monotonic() + 2.0  # progress events never hold a refresh longer
                while event is not None:
                    path = event.data.get("file_path")
                    if isinstance(path, str) and _changes_verdict(event.type, event.data):
                        paths.add(path)
                    left = until - time.monotonic()
                    event = await sub.get(min(0.5, left)) if left > 0 else None
                if paths:
                    try:
                        await self.refresh_files(sorted(paths))
                    except Exception:  # the next event tries again; a scan fixes all
                        logger.exception("library: re-deciding %d file(s) failed", len(paths))
        finally:
            sub.close()

    async def refresh_files(self, paths: Sequence[str]) -> int:
        """Re-decide the Library rows of `paths` (files the index knows), as a scan would."""
        if self.index is None or not paths:
            return 0
        known = await self.index.known(paths)
        if not known:
            return 0
        rules = await self._rules.list_rules(enabled_only=True)
        history = await self.library.history(paths=known)
        policy = UnknownLanguagePolicy.from_settings(self._settings)
        media: list[MediaInfo] = []
        for path in known:
            try:
                info = await self.library.media_one(path)
            except SubtitlerError:  # gone meanwhile: the next scan forgets it
                continue
            if isinstance(info, MediaInfo):
                media.append(info)
        roots = list(self._settings.get("library_paths") or [])
        await self.index.record(media, rules=rules, history=history, policy=policy, roots=roots)
        if media:
            self._bus.publish("library_updated", {"paths": [m.path for m in media]})
        return len(media)

    # --- single files (the watcher) -----------------------------------------------------------
    async def process_file(self, path: str) -> int:
        """Evaluate the enabled rules on one settled file; the number of jobs created."""
        rules = await self._rules.list_rules(enabled_only=True)
        if not rules:
            return 0
        info = await self.library.media_one(path)
        if isinstance(info, ProbeFailure):
            logger.info("watched file %s is not usable media: %s", path, info.detail)
            return 0
        history = await self.library.history(paths=[path])
        history.forget_stale([info])
        policy = UnknownLanguagePolicy.from_settings(self._settings)
        if self.index is not None:
            roots = list(self._settings.get("library_paths") or [])
            await self.index.record(
                [info], rules=rules, history=history, policy=policy, roots=roots
            )
            if path in await self.index.ignored_paths(roots=[str(Path(path).parent)]):
                return 0
        requests, _, _ = plan(rules, [info], history.produced, policy, detected=history.detected)
        jobs, _ = await self._enqueue(requests, history, {path: info.mtime_ns}, channel="watcher")
        if jobs:
            logger.info("watcher queued %d job(s) for %s", len(jobs), path)
        return len(jobs)

    async def file_settled(self, path: str, root: str | None) -> int:
        """A watched file stopped changing: skip junk, samples and ignored trees, else process."""
        options = self.library.walk_options()

        def reason() -> str | None:
            try:
                size = Path(path).stat().st_size
            except OSError:
                return "gone"
            why = file_skip_reason(path, size=size, options=options, root=root)
            if why is None and root is not None and is_ignored(path, roots=[root]):
                why = "ignored"
            return why

        if await asyncio.to_thread(allowed_path, path, self._settings.get) is None:
            logger.info("watcher skips %s: outside the library folders", path)
            return 0
        why = await asyncio.to_thread(reason)
        if why is not None:
            logger.debug("watcher skips %s (%s)", path, why)
            return 0
        return await self.process_file(path)

    async def file_gone(self, path: str, reason: str, is_folder: bool) -> int:
        """Cancel the queued jobs of a file (or every file of a folder) deleted or moved away."""
        where = Job.file_path == path
        if is_folder:
            low, high = prefix_range(path)
            where = or_(where, and_(Job.file_path >= low, Job.file_path < high))
        async with self._db.read() as session:
            ids = (
                await session.scalars(select(Job.id).where(where, Job.status == JobStatus.QUEUED))
            ).all()
        cancelled = 0
        for job_id in ids:
            try:
                await self._queue.cancel(job_id, reason=f"{GONE_REASON} ({reason}): {path}")
                cancelled += 1
            except SubtitlerError:  # it started or finished meanwhile
                continue
        if cancelled:
            logger.info("cancelled %d queued job(s): %s %s", cancelled, path, reason)
        return cancelled

    # --- analysis -----------------------------------------------------------------------------
    async def analyze(self, file_path: str) -> dict[str, Any]:
        """POST /api/scanner/analyze: 404 missing, 400 not a file, 422 not media."""
        file_path = check_allowed(file_path, self._settings.get)  # 403 before any file access
        info = await self.library.cache.probe_processes.probe(file_path)
        return {"file_path": info.path, **info.model_dump(mode="json")}


async def _none() -> None:
    return None


_ENDED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def _changes_verdict(kind: str, data: dict[str, Any]) -> bool:
    """A job event after which the file's stored verdict may be stale: a job queued by hand
    (a scan's or the watcher's own jobs were decided with the row), or a job that ended."""
    if kind == "job_created":
        return data.get("channel") not in ("scan", "watcher")
    return data.get("status") in _ENDED
