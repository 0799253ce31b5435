"""Issue 19: an upgrade that keeps the file name (Sonarr/Radarr replace `Movie.mkv` by a better
release: new size and mtime) is planned afresh: subtitler's own subtitle for the old file no
longer counts, so the rules queue a new job that overwrites it (never a user's subtitle). Before,
the old subtitle kept the rule from matching ("no rule matched") and the timing stayed wrong."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import httpx
from sqlalchemy import select

from subtitler.daemon import Daemon
from subtitler.db.models import Job
from subtitler.jobs.states import JobStatus
from subtitler.subtitles.registry import WrittenSubtitles
from tests.mediagen import Audio, Spec, make_media

SRT = "1\n00:00:00,000 --> 00:00:01,000\nHello\n"


async def _queued(daemon: Daemon, path: Path) -> list[Job]:
    async with daemon.db.read() as session:
        rows = await session.scalars(
            select(Job).where(Job.file_path == str(path), Job.status == JobStatus.QUEUED)
        )
        return list(rows.all())


async def _finish(daemon: Daemon, job: Job) -> Path:
    """What a worker does: write the sidecar, record it as ours, complete the job."""
    claimed = await daemon.queue.claim(worker_id="w-test")
    assert claimed is not None and claimed.id == job.id
    out = Path(job.file_path).with_suffix(".en.srt")
    out.write_text(SRT)
    await WrittenSubtitles(daemon.db).record(
        path=str(out), sha256=hashlib.sha256(out.read_bytes()).hexdigest(), job_id=job.id,
        media_path=job.file_path, language="eng",
    )  # fmt: skip
    await daemon.queue.complete(job.id, worker_id="w-test", output_path=str(out))
    return out


def _replace(media: Path, new: Path) -> None:
    """The *arr's import: the new release under the same name, written now."""
    shutil.copyfile(new, media)
    later = media.stat().st_mtime_ns + 5 * 10**9
    os.utime(media, ns=(later, later))


async def test_an_upgrade_keeping_the_name_is_subtitled_again(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    movie = make_media(root / "Movie (2020)" / "Movie.mkv", Spec(audio=(Audio(language="eng"),)))
    users = make_media(root / "Film (2021)" / "Film.mkv", Spec(audio=(Audio(language="eng"),)))
    (users.parent / "Film.en.srt").write_text(SRT)  # the user's own subtitle
    better = make_media(
        tmp_path / "better.mkv", Spec(audio=(Audio(language="eng", frequency=660),), duration=2.0)
    )
    await daemon.settings.update("library_paths", [str(root)])
    await daemon.rules.create(
        {"name": "English", "conditions": {"audio_language_is": "eng",
         "missing_external_subtitle_lang": "en"}, "action": {"target_language": "eng"}}
    )  # fmt: skip

    first = (await client.post("/api/scanner/scan", json={})).json()
    assert first["jobs_created"] == 1
    (job,) = await _queued(daemon, movie)
    ours = await _finish(daemon, job)
    again = (await client.post("/api/scanner/scan", json={})).json()
    assert again["jobs_created"] == 0  # nothing changed: nothing to do

    _replace(movie, better)
    _replace(users, better)
    upgraded = (await client.post("/api/scanner/scan", json={})).json()
    assert upgraded["jobs_created"] == 1, upgraded
    (redo,) = await _queued(daemon, movie)
    assert redo.target_lang == "eng"
    assert await _queued(daemon, users) == []  # a user's subtitle still counts
    assert ours.read_text() == SRT  # overwritten by the job when it runs, not by the scan

    # The watcher (and a webhook) plan the same way: one job, not a second.
    assert await daemon.scanner.file_settled(str(movie), str(root)) == 0
    assert len(await _queued(daemon, movie)) == 1
