"""One supervised worker: its OS process, its pipe, and the loop that feeds it jobs.

The supervisor side runs on the daemon's event loop and is the only database writer: it claims a
job, hands it to the process, and turns the process's messages into queue transitions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from subtitler.cluster.paths import PathMapper
from subtitler.cluster.transient import TRANSIENT_TYPES, is_transient, retrying
from subtitler.db.models import Job
from subtitler.jobs.outcome import after_claim_precheck, store_outcome
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.results import JobResults
from subtitler.jobs.schemas import job_payload
from subtitler.security.spawn import make_spawn_safe
from subtitler.subtitles.registry import WrittenSubtitles
from subtitler.subtitles.writer import file_sha256
from subtitler.translation.cache_store import TranslationCacheStore
from subtitler.workers import messages as msg
from subtitler.workers.channel import EOF_MESSAGE, WorkerChannel
from subtitler.workers.child import worker_main

logger = logging.getLogger(__name__)

_CTX = multiprocessing.get_context("spawn")
RESTART_BUDGET = 5  # restarts allowed ...
RESTART_WINDOW = 60.0  # ... within this many seconds, then status "error"
# Seconds a process gets to stop a cancelled job before it is killed: a batched transcription
# only looks at the cancel flag between batches, and a cancel must take effect within 5 s.
CANCEL_GRACE = 2.0
CLAIM_POLL = 2.0  # seconds between claims when idle and nothing woke us
# Seconds the reader gets to hand over what a dead process sent before its end is read as a crash.
DRAIN_GRACE = 5.0
# A worker whose process was stopped after `worker_idle_stop_seconds` without a job: it still
# claims jobs, and starts its process again for the next one (not a crash, not a restart).
SLEEPING = "sleeping"


@dataclass
class WorkerSpec:
    worker_id: str
    worker_type: str  # cpu | gpu
    device_id: int | None


@dataclass
class WorkerState:
    status: str = "starting"  # starting | idle | busy | sleeping | stopping | stopped | error
    current_job_id: str | None = None
    current_job_file: str | None = None  # its file's name, for people (worker card, events)
    progress: float | None = None
    eta: float | None = None
    stage: str | None = None
    jobs_completed: int = 0
    jobs_failed: int = 0
    pid: int | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)


class SupervisedWorker:
    # What the worker process runs: worker_main(conn, worker_id, device, device_index, log_level)
    child_main = staticmethod(worker_main)

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        queue: JobQueue,
        snapshot: Callable[[], dict[str, Any]],
        log_level: str,
        crashed_jobs: dict[str, int],
        written: WrittenSubtitles,
        vram_probe: Callable[[int], int | None],
        publish: Callable[[str, dict[str, Any]], Any],
        results: JobResults | None = None,
        paths: PathMapper | None = None,
        idle_stop: Callable[[], float] | None = None,
        asleep: bool = False,
    ) -> None:
        self.spec = spec
        # asleep: no process until the first job claims one (the daemon's launch with an idle
        # stop set: worker processes start when there is work).
        self.state = WorkerState(status=SLEEPING if asleep else "starting")
        self._queue = queue
        self._snapshot = snapshot
        self._log_level = log_level
        self._crashed_jobs = crashed_jobs
        self._written = written
        self._translation_cache = TranslationCacheStore(queue._db)
        self._vram_probe = vram_probe
        self._publish = publish
        self._results = results
        self._paths = paths or PathMapper()
        self._announced: tuple[Any, ...] = ()
        self._proc: BaseProcess | None = None
        self._channel: WorkerChannel | None = None
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._draining = False
        self._restarts: deque[float] = deque()
        self._cancel_deadline: float | None = None
        self._planned_restart = False
        self._task: asyncio.Task[None] | None = None
        # Seconds without a job after which the process is stopped (0: never); read each time.
        self._idle_stop = idle_stop or (lambda: 0.0)
        self._asleep = asleep
        self._idle_since = time.monotonic()
        self.last_start_seconds: float | None = None  # claim of a job to its process's READY

    @property
    def worker_id(self) -> str:
        return self.spec.worker_id

    # --- control from the pool ------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.worker_id)

    def wake(self) -> None:
        self._wake.set()

    def cancel_job(self, job_id: str) -> None:
        if self.state.current_job_id == job_id and self._cancel_deadline is None:
            self._send((msg.CANCEL, job_id))
            self._cancel_deadline = time.monotonic() + CANCEL_GRACE

    async def stop(self, *, timeout: float) -> None:
        """Stop claiming; let the current job finish within `timeout`; then kill and requeue."""
        self._draining = True
        self.state.status = "stopping" if self.state.current_job_id else "stopped"
        self._announce()
        self._wake.set()
        job_id = self.state.current_job_id
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
                job_id = None  # it finished (or failed) on its own
            except TimeoutError:
                job_id = self.state.current_job_id
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self._kill()
        if job_id is not None:
            await self._queue.requeue(job_id, reason=f"{self.worker_id} was stopped")
        self.state = WorkerState(
            status="stopped",
            jobs_completed=self.state.jobs_completed,
            jobs_failed=self.state.jobs_failed,
            started=self.state.started,
        )
        self._announce()

    # --- the loop -------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while not self._draining:
                if not self._asleep and not self._alive():
                    if not await self._spawn():
                        return
                    self._idle_since = time.monotonic()
                    continue
                self.state.status = SLEEPING if self._asleep else "idle"
                self._announce()
                job = await retrying(
                    lambda: self._queue.claim(worker_id=self.worker_id), what=self.worker_id
                )
                if job is None:
                    if not self._asleep and self._idle_expired():
                        await self._fall_asleep()
                        continue
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), CLAIM_POLL)
                    continue
                if self._asleep and not await self._wake_up(job):
                    return
                await self._execute(job)
                self._idle_since = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("%s supervisor loop failed", self.worker_id)
            self.state.status, self.state.error = "error", str(exc)
            self._announce()

    async def _execute(self, job: Job) -> None:
        self.state.status = "busy"
        self.state.current_job_id, self.state.progress, self.state.eta = job.id, 0.0, None
        self.state.current_job_file = job.file_name
        self._announce()
        settings = self._snapshot()
        written = await retrying(partial(self._written_for, job), what=f"{self.worker_id} reading")
        if not await after_claim_precheck(
            self._queue, job, settings=settings, written=written, paths=self._paths
        ):
            self.state.jobs_failed += 1
            self.state.current_job_id = self.state.current_job_file = None
            return
        self._send(
            (
                msg.RUN,
                {
                    "job": self._paths.local_job(  # the child opens local paths only
                        job_payload(job)
                        | {"options": job.options, "written_subtitles": self._local_paths(written)}
                    ),
                    "settings": settings,
                    "models_dir": settings["__models_dir__"],
                },
            )
        )
        self._cancel_deadline = None
        stall_limit = float(settings.get("job_stall_seconds") or 0)
        last_heard = time.monotonic()
        died_at: float | None = None
        try:
            while True:
                try:
                    kind, payload = await asyncio.wait_for(self._inbox.get(), 0.5)
                except TimeoutError:
                    now = time.monotonic()
                    if not self._alive():
                        # What it sent before dying is read first: the reader ends with an EOF.
                        died_at = died_at or now
                        if self._channel is not None and now - died_at <= DRAIN_GRACE:
                            continue
                        kind, payload = EOF_MESSAGE
                    elif self._cancel_deadline and now > self._cancel_deadline:
                        logger.info(
                            "%s: killing the process to stop job %s", self.worker_id, job.id
                        )
                        self._planned_restart = True
                        await self._kill(immediate=True)
                        return
                    elif stall_limit > 0 and now - last_heard > stall_limit:
                        await self._on_stall(job, now - last_heard)
                        return
                    else:
                        continue
                if kind != msg.PROGRESS or _moved(self.state, payload):
                    last_heard = time.monotonic()  # a tick repeating the same figure is not
                if kind == msg.PROGRESS:
                    try:
                        still_mine = await self._queue.report_progress(
                            job.id,
                            worker_id=self.worker_id,
                            progress=payload["progress"],
                            stage=payload["stage"],
                            eta_seconds=payload["eta_seconds"],
                            **payload["fields"],
                        )
                    except Exception as exc:  # the database is away: keep working meanwhile
                        if not is_transient(exc):
                            raise
                        still_mine = True
                    self.state.progress = payload["progress"]
                    self.state.eta = payload["eta_seconds"]
                    self.state.stage = payload["stage"]
                    if not still_mine:
                        self.cancel_job(job.id)
                elif kind in (msg.CACHE_GET, msg.CACHE_PUT):
                    answer = await self._translation_cache.handle(kind, payload)
                    if answer is not None:
                        self._send((msg.REPLY, answer))
                elif kind == msg.WRITING:
                    await retrying(partial(
                        self._written.intend, path=self._paths.to_queue(payload["path"]),
                        sha256=payload["sha256"], job_id=job.id, media_path=job.file_path,
                        language=payload.get("language"),
                    ), what=f"{self.worker_id} recording what {job.id} writes")  # fmt: skip
                    self._send((msg.REPLY, {"request_id": payload["request_id"], "ok": True}))
                elif kind == msg.LOG:
                    with contextlib.suppress(*TRANSIENT_TYPES):
                        await self._queue.log(job.id, payload["message"], level=payload["level"])
                elif kind == msg.DONE:
                    await self._on_done(job, payload, written)
                    return
                elif kind == msg.FAILED:
                    await retrying(partial(
                        self._queue.fail, job.id, worker_id=self.worker_id,
                        error=payload["error"], error_code=payload["error_code"],
                        **payload.get("fields", {}),
                    ), what=f"{self.worker_id} failing {job.id}")  # fmt: skip
                    with contextlib.suppress(*TRANSIENT_TYPES):
                        await self._written.discard_intents(job.id)
                    self.state.jobs_failed += 1
                    return
                elif kind == msg.CANCELLED:
                    return
                elif (kind, payload) == EOF_MESSAGE:
                    await self._on_crash(job)
                    return
        finally:
            self._cancel_deadline = None
            self.state.current_job_id = self.state.current_job_file = None
            self.state.progress = self.state.eta = self.state.stage = None

    async def _written_for(self, job: Job) -> dict[str, str]:
        """{subtitle path: sha256} of the subtitles of this media that are ours: the recorded
        ones, and those a job was about to write when it crashed (its intent) and that are on
        disk with the hash it announced."""
        written = await self._written.for_media(job.file_path)
        intents = await self._written.intents_for_media(job.file_path)
        if not intents:
            return written

        def on_disk() -> dict[str, str]:
            found = {}
            for path, sha in intents.items():
                with contextlib.suppress(OSError):
                    if file_sha256(Path(self._paths.to_local(path))) == sha:
                        found[path] = sha
            return found

        return written | await asyncio.to_thread(on_disk)

    async def _on_done(self, job: Job, payload: dict[str, Any], written: dict[str, str]) -> None:
        result = dict(payload["result"])
        if result.get("output_path"):  # recorded in the queue's form
            result["output_path"] = self._paths.to_queue(result["output_path"])
        sha = result.pop("output_sha256", None)
        language = result.pop("output_language", None)
        await store_outcome(job, result, results=self._results, written=written, paths=self._paths)
        if sha and result.get("output_path"):
            await retrying(partial(
                self._written.record, path=result["output_path"], sha256=sha,
                job_id=job.id, media_path=job.file_path, language=language,
            ), what=f"{self.worker_id} recording {job.id}")  # fmt: skip
        if self.spec.worker_type == "gpu" and self.state.pid:
            result["vram_used_mb"] = await asyncio.to_thread(self._vram_probe, self.state.pid)
        finished = await retrying(
            partial(self._queue.complete, job.id, worker_id=self.worker_id, **result),
            what=f"{self.worker_id} completing {job.id}",
        )
        if finished is not None:
            self.state.jobs_completed += 1

    async def _on_stall(self, job: Job, silent_for: float) -> None:
        """No word from the process for `job_stall_seconds`: it is stuck (a hung decoder, a
        stopped process). Kill it, and count it as a crash of this job, like a death."""
        logger.error(
            "%s: no progress on job %s for %.0f s; restarting the worker",
            self.worker_id, job.id, silent_for,
        )  # fmt: skip
        with contextlib.suppress(*TRANSIENT_TYPES):
            await self._queue.log(
                job.id,
                f"no progress for {silent_for:.0f} s (job_stall_seconds): worker restarted",
                level="warning",
            )
        await self._kill(immediate=True)
        await self._on_crash(job, reason=f"{self.worker_id} made no progress for "
                                         f"{silent_for:.0f} s (stalled)")  # fmt: skip

    def _local_paths(self, written: Any) -> Any:
        """The registry of written subtitles holds queue paths; the child reads local ones."""
        if self._paths.identity:
            return written
        if isinstance(written, dict):
            return {self._paths.to_local(k): v for k, v in written.items()}
        if isinstance(written, list | tuple | set):
            return [self._paths.to_local(p) if isinstance(p, str) else p for p in written]
        return written

    async def _on_crash(self, job: Job, *, reason: str | None = None) -> None:
        code = self._proc.exitcode if self._proc is not None else None
        what = f"{self.worker_id} recording the crash of {job.id}"
        crashes = await retrying(partial(self._queue.record_crash, job.id), what=what)
        self._crashed_jobs[job.id] = crashes
        reason = reason or f"{self.worker_id} process died (exit code {code})"
        logger.error("%s while running job %s", reason, job.id)
        if crashes >= 2:
            await retrying(partial(
                self._queue.fail, job.id, worker_id=self.worker_id,
                error=f"{reason}; the job crashed its worker {crashes} times",
                error_code="worker_crashed",
            ), what=what)  # fmt: skip
            self.state.jobs_failed += 1
        else:
            await retrying(partial(self._queue.requeue, job.id, reason=reason), what=what)
        await self._kill()

    # --- idle stop ----------------------------------------------------------------------------
    def _idle_expired(self) -> bool:
        limit = float(self._idle_stop() or 0)
        return limit > 0 and time.monotonic() - self._idle_since >= limit

    async def _fall_asleep(self) -> None:
        """No job for `worker_idle_stop_seconds`: stop the process (its model goes with it).
        The worker stays in the pool and keeps claiming; the next job starts it again."""
        logger.info(
            "%s: no job for %.0f s; its process stops until the next job",
            self.worker_id, time.monotonic() - self._idle_since,
        )  # fmt: skip
        self._planned_restart = True  # the next start is not a crash restart
        await self._kill()
        self._proc = None
        self._asleep = True
        self.state.pid = None
        self.state.status = SLEEPING
        self._announce()
        stop_tracker_if_unused()

    async def _wake_up(self, job: Job) -> bool:
        """A job was claimed while asleep: start the process for it. False (the job queued
        again) when the process cannot start."""
        started = time.monotonic()
        self._asleep = False
        self.state.current_job_id, self.state.current_job_file = job.id, job.file_name
        try:
            ok = await self._spawn()
        finally:
            if self.state.current_job_id == job.id:
                self.state.current_job_id = self.state.current_job_file = None
        if not ok:
            await retrying(
                partial(self._queue.requeue, job.id, reason=f"{self.worker_id} could not start"),
                what=f"{self.worker_id} requeueing {job.id}",
            )
            return False
        self.last_start_seconds = round(time.monotonic() - started, 3)
        logger.info(
            "%s: process started for job %s in %.2f s", self.worker_id, job.id,
            self.last_start_seconds,
        )  # fmt: skip
        return True

    # --- the process ----------------------------------------------------------------------
    def _alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    async def _spawn(self) -> bool:
        """Start (or restart) the process within the restart budget."""
        now = time.monotonic()
        if self._planned_restart:  # we stopped it on purpose (a cancel): not a crash
            self._planned_restart = False
        elif self._proc is not None:  # a restart after a crash
            while self._restarts and now - self._restarts[0] > RESTART_WINDOW:
                self._restarts.popleft()
            if len(self._restarts) >= RESTART_BUDGET:
                self.state.status = "error"
                self.state.error = (
                    f"restarted {RESTART_BUDGET} times within {int(RESTART_WINDOW)} s; giving up"
                )
                self._announce()
                logger.error("%s: %s", self.worker_id, self.state.error)
                return False
            self._restarts.append(now)
            logger.warning("restarting %s", self.worker_id)
        await self._kill()
        self.state.status = "starting"
        self._announce()
        parent_conn, child_conn = _CTX.Pipe(duplex=True)
        device = "cuda" if self.spec.worker_type == "gpu" else "cpu"
        make_spawn_safe()  # the child must not re-run an unguarded entry script
        proc = _CTX.Process(
            target=self.child_main,
            args=(child_conn, self.worker_id, device, self.spec.device_id or 0, self._log_level),
            name=self.worker_id,
            daemon=True,
        )
        proc.start()  # on the loop's thread: the child's death signal is tied to this thread
        child_conn.close()
        self._proc = proc
        self._inbox = asyncio.Queue()
        self._channel = WorkerChannel(
            parent_conn, self._inbox, loop=asyncio.get_running_loop(), name=self.worker_id
        )
        try:
            kind, payload = await asyncio.wait_for(self._inbox.get(), 120)
        except TimeoutError:
            kind, payload = EOF_MESSAGE
        if kind != msg.READY:
            self.state.status, self.state.error = "error", "worker process failed to start"
            self._announce()
            await self._kill()
            return False
        self.state.pid = payload["pid"]
        self.state.error = None
        self._announce()
        return True

    def _send(self, message: msg.Message) -> None:
        if self._channel is not None:
            self._channel.send(message)  # a broken pipe: the reader reports the EOF

    async def _kill(self, *, immediate: bool = False) -> None:
        channel, proc = self._channel, self._proc
        self._channel = None
        if immediate and proc is not None and proc.is_alive():
            proc.kill()
        if channel is not None:
            if not immediate:
                channel.send((msg.STOP, None))
            await asyncio.to_thread(channel.close)
        if proc is not None and proc.is_alive():
            await asyncio.to_thread(proc.join, 2.0)
            if proc.is_alive():
                proc.kill()
                await asyncio.to_thread(proc.join, 5.0)

    def _announce(self) -> None:
        """Publish `worker_updated` when the worker's status, job or process changed."""
        now = (self.state.status, self.state.current_job_id, self.state.pid, self.state.error)
        if now != self._announced:
            self._announced = now
            self._publish("worker_updated", self.describe())

    def describe(self) -> dict[str, Any]:
        return {
            "worker_id": self.worker_id,
            "worker_type": self.spec.worker_type,
            "device_id": self.spec.device_id,
            "status": self.state.status,
            "current_job_id": self.state.current_job_id,
            "current_job_file": self.state.current_job_file,
            "current_stage": self.state.stage,
            "jobs_completed": self.state.jobs_completed,
            "jobs_failed": self.state.jobs_failed,
            "uptime_seconds": round(time.monotonic() - self.state.started, 1),
            "current_job_progress": self.state.progress,
            "current_job_eta": self.state.eta,
            "pid": self.state.pid,
            "error": self.state.error,
        }


def stop_tracker_if_unused() -> None:
    """Stop multiprocessing's resource tracker (a Python process of ~13 MB that spawning
    starts) when no child process is left to track; the next spawn starts it again. Runs on
    the event loop's thread, where every spawn happens, so no child can start meanwhile."""
    if multiprocessing.active_children():
        return
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker, "_resource_tracker", None)
    stop = getattr(tracker, "_stop", None)
    if stop is not None and getattr(tracker, "_fd", None) is not None:
        try:
            stop()
        except (OSError, ChildProcessError):  # already gone
            logger.debug("resource tracker already stopped")


def _moved(state: WorkerState, progress: dict[str, Any]) -> bool:
    """Whether a PROGRESS message says more than the last one (a stalled job's progress ticker
    repeats its last guess)."""
    return bool(
        progress["stage"] != state.stage
        or state.progress is None
        or (progress["progress"] or 0.0) > state.progress
    )
