"""ASR requests as queue jobs: dedupe identical audio, wait for the result, keep it a while.

A request's key is the sha256 of its audio plus everything that changes the answer (task,
language, output, prompt, VAD, word timestamps). The job's `file_path` is `asr://<key>`, so the
queue's unique index makes identical requests share one queued, running or completed job: a
retry attaches to the running job or gets the finished result at once. Clients that disconnect
do not cancel anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select

from subtitler.cluster.paths import PathMapper
from subtitler.db import Database
from subtitler.db.models import Job, utcnow
from subtitler.errors import BadRequest
from subtitler.events import EventBus
from subtitler.jobs.claim import DuplicateJob
from subtitler.jobs.metrics import count_asr_request
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.states import TERMINAL, JobStatus, JobType
from subtitler.media.languages import parse_language
from subtitler.security.paths import allowed_path
from subtitler.settings import SettingsService

logger = logging.getLogger(__name__)

ASR_PREFIX = "asr://"
ASR_JOB_TYPES = (JobType.ASR, JobType.LANGUAGE_DETECTION)
CLEANUP_EVERY = 300.0
OUTPUTS = ("txt", "vtt", "srt", "tsv", "json", "verbose_json", "openai_json", "diarized_json")


@dataclass(frozen=True, kw_only=True)
class AsrRequest:
    kind: str = "asr"  # asr | detect
    task: str = "transcribe"
    language: str | None = None  # Whisper's code, None = detect
    output: str = "txt"
    encode: bool = True
    initial_prompt: str | None = None
    vad_filter: bool | None = None
    word_timestamps: bool | None = None
    video_file: str | None = None
    upload_name: str | None = None
    preset: str | None = None  # None: the asr_quality_preset setting
    forced: str | None = None  # a forced subtitle in this language: foreign passages only
    diarize: bool = False  # who speaks (issue 24); the ASR APIs ask for it, no setting decides
    min_speakers: int | None = None
    max_speakers: int | None = None

    def key(self, audio_sha256: str) -> str:
        parts = [audio_sha256, self.kind, self.task, self.language or "", self.output,
                 self.initial_prompt or "", str(self.vad_filter), str(self.word_timestamps),
                 str(self.encode), self.preset or "", self.forced or ""]  # fmt: skip
        if self.diarize:
            parts += ["diarize", str(self.min_speakers), str(self.max_speakers)]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class AsrService:
    def __init__(
        self,
        *,
        db: Database,
        queue: JobQueue,
        settings: SettingsService,
        bus: EventBus,
        spool_dir: Path,
        results_dir: Path,
    ) -> None:
        self._db = db
        self._queue = queue
        self._settings = settings
        self._bus = bus
        self.spool_dir = spool_dir
        self.results_dir = results_dir
        self.paths = PathMapper()  # this node's SUBTITLER_PATH_MAPPINGS (the Daemon sets it)
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle --------------------------------------------------------------------------
    async def recover(self) -> None:
        """Before serving: ASR jobs of a previous run have lost their clients and their spooled
        audio (the spool is emptied at start), so they are failed; a client's retry makes a new
        job. Old results past their time are dropped."""
        async with self._db.read() as session:
            ids = (
                await session.scalars(
                    select(Job.id).where(
                        Job.job_type.in_(ASR_JOB_TYPES),
                        Job.status.in_([JobStatus.QUEUED, JobStatus.PROCESSING]),
                        # on a cluster, only this node's uploads (others' are alive elsewhere)
                        or_(Job.pinned_node.is_(None), Job.pinned_node == self._queue.node_id),
                    )
                )
            ).all()
        for job_id in ids:
            with contextlib.suppress(Exception):
                await self._queue.cancel(job_id, reason="the daemon restarted; the client retries")
        await self.cleanup()

    async def start(self) -> None:
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._tasks = [
            asyncio.create_task(self._cleanup_loop(), name="asr-cleanup"),
            asyncio.create_task(self._spool_janitor(), name="asr-spool"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    # --- requests ---------------------------------------------------------------------------
    async def submit(
        self, request: AsrRequest, *, audio_path: Path, audio_sha256: str, channel: str = "asr"
    ) -> Job:
        """The job answering `request`: an identical one in flight or finished, else a new one."""
        count_asr_request(kind=request.kind, channel=channel)  # /metrics
        if request.output not in OUTPUTS:
            raise BadRequest(
                f"output must be one of {', '.join(OUTPUTS[:5])}; got {request.output!r}",
                code="bad_output",
            )
        key = request.key(audio_sha256)
        file_path = ASR_PREFIX + key
        if self._queue.local_only:  # a cluster node: its uploads, results and dedup are its own
            file_path = f"{ASR_PREFIX}{self._queue.node_id}/{key}"
        existing = await self._queue.find_active(
            file_path=file_path, target_lang=None, task=request.task
        )
        if existing is not None and self._usable(existing):
            await asyncio.to_thread(_remove, audio_path)
            await self._queue.log(existing.id, "an identical request attached to this job")
            return existing
        if existing is not None:  # completed, but its result file is gone: run it again
            await self._forget(existing.id)
        spooled = self.spool_dir / f"{key}.{'bin' if request.encode else 'pcm'}"
        await asyncio.to_thread(audio_path.replace, spooled)
        source = parse_language(request.language) if request.language else None
        try:
            job = await self._queue.enqueue(
                file_path=file_path,
                file_name=_display_name(request),
                job_type=JobType.ASR if request.kind == "asr" else JobType.LANGUAGE_DETECTION,
                priority=int(self._settings.get("asr_job_priority")),
                source_lang=source,
                target_lang=None,
                quality_preset=request.preset or str(self._settings.get("asr_quality_preset")),
                transcribe_or_translate=request.task,
                is_manual_request=False,
                channel=channel,
                output_format=request.output,
                options={
                    **asdict(request),
                    "input": str(spooled),
                    "results_dir": str(self.results_dir),
                    "local_video": self._map_path(request.video_file),
                },
                pinned_node=self._queue.node_id,  # spooled here: only this node may run it
            )
        except DuplicateJob as dup:  # an identical request won the race
            if dup.existing_id is None:
                raise
            return await self._queue.get(dup.existing_id)
        return job

    async def wait(self, job_id: str, *, poll: float = 1.0) -> Job:
        """Block (asynchronously) until the job is finished; returns its final row."""
        sub = self._bus.subscribe({"job_updated"})
        try:
            while True:
                job = await self._queue.get(job_id)
                if job.status in TERMINAL:
                    return job
                deadline = asyncio.get_running_loop().time() + poll
                while (left := deadline - asyncio.get_running_loop().time()) > 0:
                    event = await sub.get(wait_seconds=left)
                    if (
                        event is not None
                        and event.data.get("id") == job_id
                        and event.data.get("status") in TERMINAL
                    ):
                        break
        finally:
            sub.close()

    @staticmethod
    def result_text(job: Job) -> str:
        if not job.output_path:
            return ""
        return Path(job.output_path).read_text(encoding="utf-8")

    # --- housekeeping -----------------------------------------------------------------------
    async def cleanup(self) -> int:
        """Drop finished ASR jobs older than asr_result_ttl_hours, with their result files."""
        ttl = timedelta(hours=float(self._settings.get("asr_result_ttl_hours")))
        cutoff = utcnow() - ttl
        async with self._db.read() as session:
            rows = (
                await session.execute(
                    select(Job.id, Job.output_path).where(
                        Job.job_type.in_(ASR_JOB_TYPES),
                        Job.status.in_(list(TERMINAL)),
                        Job.completed_at < cutoff,
                    )
                )
            ).all()
        for job_id, output in rows:
            if output:
                await asyncio.to_thread(_remove, Path(output))
            await self._forget(job_id)
        return len(rows)

    async def _forget(self, job_id: str) -> None:
        async with self._db.write() as session:
            await session.execute(delete(Job).where(Job.id == job_id))
        self._bus.publish("job_deleted", {"id": job_id})

    async def _cleanup_loop(self) -> None:
        while True:
            await asyncio.sleep(CLEANUP_EVERY)
            try:
                await self.cleanup()
            except Exception:
                logger.exception("ASR result cleanup failed")

    async def _spool_janitor(self) -> None:
        """A finished ASR job no longer needs its spooled audio."""
        sub = self._bus.subscribe({"job_updated"})
        try:
            while True:
                event = await sub.get()
                if event is None or event.data.get("status") not in TERMINAL:
                    continue
                with contextlib.suppress(Exception):
                    job = await self._queue.get(str(event.data["id"]))
                    spooled = (job.options or {}).get("input")
                    if job.job_type in ASR_JOB_TYPES and spooled:
                        await asyncio.to_thread(_remove, Path(spooled))
        finally:
            sub.close()

    def _usable(self, job: Job) -> bool:
        if job.status != JobStatus.COMPLETED or job.job_type == JobType.LANGUAGE_DETECTION:
            return True
        return job.output_path is not None and Path(job.output_path).is_file()

    def _map_path(self, video_file: str | None) -> str | None:
        if not video_file:
            return None
        for source, target in self._settings.get("path_mappings") or []:
            if video_file.startswith(source):
                video_file = target + video_file[len(source) :]
                break
        allowed = allowed_path(video_file, self._settings.get)
        if allowed is None:
            return None  # outside the library: never looked at, so nothing is revealed
        local = self.paths.to_local(allowed)  # the queue's form -> where this node sees it
        return local if Path(local).is_file() else None


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _display_name(request: AsrRequest) -> str:
    if request.video_file:
        return Path(request.video_file).name
    return request.upload_name or "audio_file"
