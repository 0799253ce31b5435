"""Fair crash accounting: daemon restarts never fail a job; worker crashes while running it
count (persisted); a user's retry starts afresh."""

from __future__ import annotations

from pathlib import Path

from subtitler.daemon import Daemon


async def _processing(daemon: Daemon, media_file: Path) -> str:
    job = await daemon.jobs.create(file_path=str(media_file), target_lang="eng")
    claimed = await daemon.queue.claim(worker_id="worker-cpu-0")
    assert claimed is not None and claimed.id == job.id
    return job.id


async def test_daemon_restarts_never_fail_a_job(daemon: Daemon, media_file: Path) -> None:
    job_id = await _processing(daemon, media_file)
    for _ in range(5):  # more than the old MAX_RECOVERIES
        requeued, failed = await daemon.queue.recover_orphans()
        assert (requeued, failed) == (1, 0)
        again = await daemon.queue.claim(worker_id="worker-cpu-0")
        assert again is not None and again.id == job_id
    job = await daemon.queue.get(job_id)
    assert job.status == "processing" and job.recovered_count == 5 and job.crash_count == 0


async def test_worker_crashes_count_and_a_retry_resets(daemon: Daemon, media_file: Path) -> None:
    job_id = await _processing(daemon, media_file)
    assert await daemon.queue.record_crash(job_id) == 1
    assert await daemon.queue.record_crash(job_id) == 2
    await daemon.queue.fail(
        job_id, worker_id="worker-cpu-0", error="crashed twice", error_code="worker_crashed"
    )
    await daemon.queue.recover_orphans()
    retried = await daemon.queue.retry(job_id)
    assert retried.status == "queued"
    assert retried.crash_count == 0 and retried.recovered_count == 0 and retried.retry_count == 1
    assert await daemon.queue.record_crash(job_id) == 1  # counting starts afresh
