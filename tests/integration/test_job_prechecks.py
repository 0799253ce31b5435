"""One job per output and the checks before work, on real files: overlapping scan rules, a
human subtitle in the way, a read-only folder and a full disk (real tmpfs mounts), write errors
mapped to job codes, and no orphan subtitle beside a deleted video."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from subtitler.daemon import Daemon
from subtitler.jobs.outcome import after_claim_precheck
from subtitler.jobs.prechecks import PrecheckFailed, write_subtitle
from tests.mediagen import Audio, Spec, make_media


@pytest.fixture(scope="module")
def video_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("src")
    return make_media(folder / "Movie.mkv", Spec(audio=(Audio(language="eng"),)))


@pytest.fixture
def library(tmp_path: Path, video_source: Path) -> Path:
    root = tmp_path / "library"
    root.mkdir()
    shutil.copyfile(video_source, root / "Movie.mkv")
    return root


class Tmpfs:
    def __init__(self, path: Path) -> None:
        self.path = path

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.path)], check=True)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Tmpfs]:
    """A real 2 MB tmpfs (root only); skipped where mounting is not allowed."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield Tmpfs(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


async def _create(client: httpx.AsyncClient, video: Path, **extra: Any) -> httpx.Response:
    return await client.post("/api/jobs", json={"file_path": str(video), "target_lang": "eng",
                                                **extra})  # fmt: skip


async def _claim_and_check(daemon: Daemon, job_id: str) -> dict[str, Any]:
    """The claim path of a worker, up to the point where it would start decoding audio."""
    job = await daemon.queue.claim(worker_id="worker-test")
    assert job is not None and job.id == job_id
    settings = {key: daemon.settings.get(key) for key in (
        "subtitle_format", "subtitle_language_style", "subtitle_provenance_tag",
        "overwrite_existing_subtitles", "min_free_output_disk_mb")}  # fmt: skip
    written = await daemon.pool._written.for_media(job.file_path)
    assert not await after_claim_precheck(daemon.queue, job, settings=settings, written=written)
    after = await daemon.queue.get(job_id)
    log = [line.message for line in await daemon.queue.logs(job_id)]
    assert not any("extracting_audio" in m or "audio track" in m for m in log)
    return {"job": after, "log": log}


async def test_overlapping_rules_queue_one_job_per_output(
    client: httpx.AsyncClient, daemon: Daemon, library: Path
) -> None:
    await daemon.settings.bulk_update({"library_paths": [str(library)]})
    low = {
        "name": "English subtitles",
        "priority": 1,
        "conditions": {"audio_language_is": "eng"},
        "action": {"target_language": "eng"},
    }
    high = {"name": "English via translate", "priority": 5,
            "conditions": {"audio_language_is": "eng"},
            "action": {"action_type": "translate", "target_language": "en"}}  # fmt: skip
    low_id = (await client.post("/api/scan-rules", json=low)).json()["id"]
    high_id = (await client.post("/api/scan-rules", json=high)).json()["id"]

    preview = (await client.get(f"/api/scan-rules/{low_id}/preview")).json()
    (file,) = preview["files"]
    assert (file["winning_rule_id"], file["winning_rule_name"]) == (high_id, high["name"])
    assert "English via translate" in file["skipped_reason"]

    scan = (await client.post("/api/scanner/scan", json={})).json()
    assert scan["jobs_created"] == 1
    (job,) = (await client.get("/api/jobs")).json()["jobs"]
    assert (job["rule_id"], job["rule_name"], job["channel"]) == (high_id, high["name"], "scan")
    again = (await client.post("/api/scanner/scan", json={})).json()
    assert again["jobs_created"] == 0
    manual = await _create(client, library / "Movie.mkv")
    assert manual.status_code == 409 and manual.json()["code"] == "duplicate_job"
    filtered = (await client.get("/api/jobs", params={"channel": "scan"})).json()
    assert filtered["total"] == 1


async def test_human_subtitle_refused_at_enqueue_and_at_claim(
    client: httpx.AsyncClient, daemon: Daemon, library: Path
) -> None:
    video = library / "Movie.mkv"
    job = (await _create(client, video)).json()
    human = library / "Movie.eng.srt"
    human.write_text("1\n00:00:01,000 --> 00:00:02,000\nMy own words\n")
    refused = await _create(client, video, variant=None, target_lang="eng", priority=1)
    assert refused.status_code == 409  # the queued twin answers first
    other = await _create(client, video, target_lang="eng", variant="ai")
    assert other.status_code == 201  # Movie.eng.ai.srt is free
    await client.delete(f"/api/jobs/{other.json()['id']}")
    await client.delete(f"/api/jobs/{job['id']}")
    direct = await _create(client, video)
    assert direct.status_code == 409 and direct.json()["code"] == "output_exists"

    human.unlink()
    job = (await _create(client, video)).json()
    human.write_text("1\n00:00:01,000 --> 00:00:02,000\nMy own words\n")
    outcome = await _claim_and_check(daemon, job["id"])
    assert (outcome["job"].status, outcome["job"].error_code) == ("failed", "output_exists")
    assert human.read_text().endswith("My own words\n")


async def test_read_only_folder(
    client: httpx.AsyncClient, daemon: Daemon, tmpfs: Tmpfs, video_source: Path
) -> None:
    video = tmpfs.path / "Movie.mkv"
    shutil.copyfile(video_source, video)
    await daemon.settings.bulk_update(
        {"min_free_output_disk_mb": 0}
    )  # a 2 MB tmpfs: not "full" here
    job = (await _create(client, video)).json()
    tmpfs.remount("ro")
    refused = await _create(client, video, target_lang="spa")
    assert refused.status_code == 409 and refused.json()["code"] == "output_not_writable"
    outcome = await _claim_and_check(daemon, job["id"])
    assert (outcome["job"].status, outcome["job"].error_code) == ("failed", "output_not_writable")
    with pytest.raises(PrecheckFailed) as err:
        write_subtitle(tmpfs.path / "Movie.eng.srt", "x", media=video)
    assert err.value.code == "output_not_writable"
    assert sorted(p.name for p in tmpfs.path.iterdir()) == ["Movie.mkv"]  # nothing partial


async def test_full_disk(
    client: httpx.AsyncClient, daemon: Daemon, tmpfs: Tmpfs, video_source: Path
) -> None:
    video = tmpfs.path / "Movie.mkv"
    shutil.copyfile(video_source, video)
    refused = await _create(client, video)  # 2 MB free, 50 MB wanted
    assert refused.status_code == 507 and refused.json()["code"] == "disk_full"

    await daemon.settings.bulk_update({"min_free_output_disk_mb": 0, "job_auto_retry_max": 0})
    job = (await _create(client, video)).json()
    filler = tmpfs.path / "filler.bin"
    with contextlib.suppress(OSError), filler.open("wb") as fh:
        while True:
            fh.write(b"\0" * 65536)
    outcome = await _claim_and_check(daemon, job["id"])
    assert (outcome["job"].status, outcome["job"].error_code) == ("failed", "disk_full")

    # a write that runs out of space: disk_full, and neither the file nor a temp file is left
    with pytest.raises(PrecheckFailed) as err:
        write_subtitle(tmpfs.path / "Movie.eng.srt", "x" * 100_000, media=video)
    assert err.value.code == "disk_full"
    assert sorted(p.name for p in tmpfs.path.iterdir()) == ["Movie.mkv", "filler.bin"]


async def test_transient_failure_retries_with_backoff(
    client: httpx.AsyncClient, daemon: Daemon, tmpfs: Tmpfs, video_source: Path
) -> None:
    video = tmpfs.path / "Movie.mkv"
    shutil.copyfile(video_source, video)
    await daemon.settings.bulk_update(
        {
            "min_free_output_disk_mb": 0,
            "job_auto_retry_max": 2,
            "job_auto_retry_backoff_seconds": 600,
        }
    )
    job = (await _create(client, video)).json()
    await daemon.settings.bulk_update({"min_free_output_disk_mb": 1000})
    claimed = await daemon.queue.claim(worker_id="worker-test")
    assert claimed is not None
    assert not await after_claim_precheck(
        daemon.queue, claimed, settings={"min_free_output_disk_mb": 1000}, written={}
    )
    again = (await client.get(f"/api/jobs/{job['id']}")).json()
    assert (again["status"], again["error_code"], again["auto_retry_count"]) == (
        "queued",
        "disk_full",
        1,
    )
    assert again["not_before"] is not None
    assert await daemon.queue.claim(worker_id="worker-test") is None  # not before the backoff
    log = [line["message"] for line in (await client.get(f"/api/jobs/{job['id']}/log")).json()]
    assert any("retrying automatically in 600 s" in m for m in log)


def test_no_orphan_subtitle_when_the_video_is_gone(tmp_path: Path) -> None:
    folder = tmp_path / "show"
    folder.mkdir()
    video = folder / "Episode.mkv"
    with pytest.raises(PrecheckFailed) as err:
        write_subtitle(folder / "Episode.eng.srt", "x", media=video)
    assert err.value.code == "media_not_found"
    assert list(folder.iterdir()) == []
    with pytest.raises(PrecheckFailed) as err:
        write_subtitle(
            tmp_path / "gone" / "Episode.eng.srt", "x", media=tmp_path / "gone" / "E.mkv"
        )
    assert err.value.code == "media_unavailable"  # the whole folder: an unmounted share


async def test_scan_does_not_queue_what_a_pre_check_refuses(
    client: httpx.AsyncClient, daemon: Daemon, library: Path
) -> None:
    await daemon.settings.bulk_update({"library_paths": [str(library)]})
    (library / "Movie.eng.srt").write_text("1\n00:00:00,100 --> 00:00:00,900\nMine\n")
    rule = {"name": "English", "conditions": {"audio_language_is": "eng"},
            "action": {"target_language": "eng"}}  # fmt: skip
    assert (await client.post("/api/scan-rules", json=rule)).status_code == 201
    scan = (await client.post("/api/scanner/scan", json={})).json()
    assert (scan["jobs_created"], scan["refused"]) == (0, {"output_exists": 1})
    assert (await client.get("/api/jobs")).json()["total"] == 0
