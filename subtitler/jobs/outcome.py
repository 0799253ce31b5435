"""The supervisor's side of a job's life around the worker process: the pre-check right after a
claim (before any audio is decoded), and what is kept when the job is done (its cues, metrics,
and the removal of the file a redo replaced)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from subtitler.cluster.paths import PathMapper
from subtitler.cluster.transient import retrying
from subtitler.db.models import Job
from subtitler.jobs import metrics
from subtitler.jobs.prechecks import PrecheckFailed, precheck
from subtitler.jobs.queue import JobQueue
from subtitler.jobs.results import JobResults
from subtitler.jobs.schemas import job_payload
from subtitler.jobs.states import JobType
from subtitler.subtitles.writer import file_sha256

logger = logging.getLogger(__name__)

FILE_JOBS = frozenset({JobType.TRANSCRIPTION, JobType.TRANSLATION, JobType.SUBTITLE_TRANSLATION})


async def after_claim_precheck(
    queue: JobQueue, job: Job, *, settings: Mapping[str, Any], written: Mapping[str, str],
    paths: PathMapper | None = None,
) -> bool:  # fmt: skip
    """False (and the job failed, or queued again when transient) when it cannot succeed.
    `paths`: this node's mapping; the files are looked at where this node sees them."""
    if job.job_type not in FILE_JOBS:
        return True
    paths = paths or PathMapper()
    local = paths.local_job(job_payload(job) | {"options": job.options or {}})
    replaces = local["options"].get("replaces")
    try:
        await asyncio.to_thread(
            precheck, job=local, settings=settings, written=paths.local_written(written),
            replaces=replaces,
        )  # fmt: skip
    except PrecheckFailed as exc:
        what = f"{job.worker_id} failing {job.id}"
        message = f"pre-check failed ({exc.code}): {exc.detail}"
        await retrying(partial(queue.log, job.id, message, level="error"), what=what)
        await retrying(partial(queue.fail, job.id, worker_id=job.worker_id, error=exc.detail,
                               error_code=exc.code), what=what)  # fmt: skip
        return False
    return True


async def store_outcome(
    job: Job, result: dict[str, Any], *, results: JobResults | None, written: Mapping[str, str],
    paths: PathMapper | None = None,
) -> None:  # fmt: skip
    """Pop what is not a job column from `result` and keep it where it belongs (`result`'s
    paths are in the queue's form; `paths` maps them to this node's for the files)."""
    document = result.pop("stored_cues", None)
    source = result.pop("subtitle_source", None)  # the subtitle a translation actually read
    if isinstance(source, dict):
        if isinstance(source.get("path"), str):
            source = {**source, "path": (paths or PathMapper()).to_queue(source["path"])}
        result["options"] = {**(job.options or {}), "subtitle_source": source}
    audio_duration = result.pop("audio_duration", None)
    if results is not None and document is not None:  # kept through a database outage
        await retrying(partial(results.store, job_id=job.id, document=document),
                       what=f"{job.worker_id} storing the cues of {job.id}")  # fmt: skip
    metrics.observe_job(
        processing_seconds=result.get("processing_time_seconds"), audio_seconds=audio_duration
    )
    replaced = (job.options or {}).get("replaces")
    new_path = result.get("output_path")
    if replaced and new_path and replaced != new_path:
        local = (paths or PathMapper()).to_local(replaced)
        await asyncio.to_thread(_remove_if_ours, Path(local), written.get(replaced))


def _remove_if_ours(path: Path, sha: str | None) -> None:
    """A redo in another format replaces our previous file: remove it if nobody edited it."""
    with contextlib.suppress(OSError):
        if sha and path.is_file() and file_sha256(path) == sha:
            path.unlink()
            logger.info("removed %s, replaced by a redo", path)
