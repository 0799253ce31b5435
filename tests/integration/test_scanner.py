"""Scanning a generated library through the API: exactly the right jobs, a free rescan (nothing
probed, nothing queued), no re-queue of what subtitler already wrote, skip reasons, analysis."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from subtitler.daemon import Daemon
from subtitler.db.models import Job
from subtitler.subtitles.registry import WrittenSubtitles
from tests.mediagen import Library, make_library

RULES: list[dict[str, Any]] = [
    {   # E01 has a Spanish sidecar, E02 embedded Spanish: no job
        "name": "Japanese without Spanish",
        "priority": 10,
        "conditions": {"audio_language_is": "jpn", "missing_embedded_subtitle_lang": "spa",
                       "missing_external_subtitle_lang": "spa"},
        "action": {"target_language": "spa", "quality_preset": "fast"},
    },
    {   # E01 and E02
        "name": "Japanese to English",
        "priority": 5,
        "conditions": {"audio_language_is": "ja", "missing_external_subtitle_lang": "en"},
        "action": {"target_language": "eng", "job_priority": 3},
    },
    {   # Film Two (ger audio tagged, eng commentary ignored)
        "name": "German translated",
        "conditions": {"audio_language_is": "German", "file_extension": ".mp4"},
        "action": {"action_type": "translate", "target_language": "en"},
    },
    {   # the PGS French subtitle counts: no job
        "name": "French subs",
        "conditions": {"audio_language_is": "fre", "missing_embedded_subtitle_lang": "fra"},
        "action": {"target_language": "fra"},
    },
    {"name": "Disabled catch-all", "enabled": False, "action": {"target_language": "ita"}},
]  # fmt: skip


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return make_library(tmp_path_factory.mktemp("library"))


async def _setup(client: httpx.AsyncClient, daemon: Daemon, lib: Library) -> None:
    await daemon.settings.bulk_update(
        {"library_paths": [str(lib.root)], "scanner_unknown_language_policy": "skip"}
    )
    for rule in RULES:
        assert (await client.post("/api/scan-rules", json=rule)).status_code == 201


async def _jobs(daemon: Daemon) -> list[Job]:
    async with daemon.db.read() as session:
        return list((await session.scalars(select(Job).order_by(Job.file_path))).all())


async def test_scan_queues_exactly_the_right_jobs_and_a_rescan_is_free(
    client: httpx.AsyncClient, daemon: Daemon, lib: Library
) -> None:
    await _setup(client, daemon, lib)
    events = daemon.bus.subscribe({"scan_started", "scan_finished"})
    resp = await client.post("/api/scanner/scan")
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["paths_scanned"] == [str(lib.root)]
    assert (result["scanned_files"], result["matched_files"], result["jobs_created"]) == (6, 3, 3)
    assert result["skipped"] == {
        "ignored": 1, "junk": 5, "no_rule_matched": 3, "not_media": 1, "partial": 2, "sample": 1,
    }  # fmt: skip
    assert result["skipped_files"] == 13
    assert (result["probed_files"], result["cached_files"]) == (6, 0)
    assert daemon.library.cache.probes == 6

    jobs = await _jobs(daemon)
    got = {(Path(j.file_path).name, j.target_lang, j.transcribe_or_translate) for j in jobs}
    assert got == {
        ("Film Two.mp4", "eng", "translate"),
        ("Show Ñame - S01E01.mkv", "eng", "transcribe"),
        ("Show Ñame - S01E02.mkv", "eng", "transcribe"),
    }
    e1 = next(j for j in jobs if j.file_path == str(lib.media["anime_e1"]))
    assert (e1.source_lang, e1.priority, e1.is_manual_request) == ("jpn", 3, False)
    assert e1.options["rule_name"] == "Japanese to English" and e1.options["audio_track"] == 0
    film = next(j for j in jobs if j.file_name == "Film Two.mp4")
    assert (film.job_type, film.source_lang) == ("translation", "deu")

    first = await events.get(1)
    finished = await events.get(1)
    assert first is not None and first.type == "scan_started"
    assert finished is not None and finished.type == "scan_finished"
    assert finished.data["jobs_created"] == 3
    status = (await client.get("/api/scanner/status")).json()
    assert status["total_scans"] == 1 and status["last_scan_time"]

    # an unchanged rescan probes nothing and queues nothing
    again = (await client.post("/api/scanner/scan", json={"recursive": True})).json()
    assert (again["jobs_created"], again["already_queued"], again["matched_files"]) == (0, 3, 3)
    assert (again["probed_files"], again["cached_files"]) == (0, 6)
    assert daemon.library.cache.probes == 6
    assert len(await _jobs(daemon)) == 3
    # a changed file (new mtime) is probed again, and only it
    st = lib.media["podcast"].stat()
    os.utime(lib.media["podcast"], ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    third = (await client.post("/api/scanner/scan")).json()
    assert third["probed_files"] == 1 and daemon.library.cache.probes == 7
    assert (await client.get("/api/scanner/status")).json()["total_scans"] == 3


async def test_what_subtitler_wrote_is_not_queued_again(
    client: httpx.AsyncClient, daemon: Daemon, lib: Library
) -> None:
    await _setup(client, daemon, lib)
    await client.post("/api/scanner/scan")
    e1 = str(lib.media["anime_e1"])
    (job,) = [j for j in await _jobs(daemon) if j.file_path == e1]
    # a worker finishes it and writes a subtitle whose name carries no language the rule knows
    claimed = await daemon.queue.claim(worker_id="w-test")
    while claimed is not None and claimed.id != job.id:
        await daemon.queue.cancel(claimed.id)
        claimed = await daemon.queue.claim(worker_id="w-test")
    assert claimed is not None
    out = str(Path(e1).with_suffix(".subtitler.srt"))
    await daemon.queue.complete(job.id, worker_id="w-test", output_path=out)
    await WrittenSubtitles(daemon.db).record(
        path=out, sha256="0" * 64, job_id=job.id, media_path=e1, language="eng"
    )
    assert (await client.post("/api/jobs/queue/clear")).json()["message"].startswith("Cleared 1")
    # the job row is gone; the written-subtitle record alone keeps the rule from re-queueing
    result = (await client.post("/api/scanner/scan")).json()
    assert result["jobs_created"] == 0 and result["already_produced"] == 1
    assert not [j for j in await _jobs(daemon) if j.file_path == e1]


async def test_scan_errors(client: httpx.AsyncClient, daemon: Daemon, lib: Library) -> None:
    none = await client.post("/api/scanner/scan")
    assert none.status_code == 400 and none.json()["detail"] == "No library paths configured"
    missing = await client.post("/api/scanner/scan", json={"paths": [str(lib.root / "nope")]})
    assert missing.status_code == 400 and "not a folder" in missing.json()["detail"]
    a_file = await client.post("/api/scanner/scan", json={"paths": [str(lib.media["podcast"])]})
    assert a_file.status_code == 400
    relative = await client.post("/api/scanner/scan", json={"paths": ["media/anime"]})
    assert relative.status_code == 400 and "absolute" in relative.json()["detail"]


async def test_concurrent_scans_join_or_conflict(
    client: httpx.AsyncClient, daemon: Daemon, lib: Library
) -> None:
    await _setup(client, daemon, lib)
    body = {"paths": [str(lib.root)]}
    a, b = await asyncio.gather(
        client.post("/api/scanner/scan", json=body), client.post("/api/scanner/scan", json=body)
    )
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()  # the second request joined the first scan
    assert (await client.get("/api/scanner/status")).json()["total_scans"] == 1
    c, d = await asyncio.gather(
        client.post("/api/scanner/scan", json=body),
        client.post("/api/scanner/scan", json={"paths": [str(lib.root / "Films")]}),
    )
    assert sorted([c.status_code, d.status_code]) == [200, 409]
    conflict = c if c.status_code == 409 else d
    assert conflict.json()["code"] == "scan_in_progress"


async def test_analyze(client: httpx.AsyncClient, lib: Library) -> None:
    async def analyze(path: Path) -> httpx.Response:
        return await client.post("/api/scanner/analyze", params={"file_path": str(path)})

    assert (await analyze(lib.root / "missing.mkv")).status_code == 404
    folder = await analyze(lib.root / "Films")
    assert folder.status_code == 400 and "not a file" in folder.json()["detail"]
    text = await analyze(lib.root / "Films" / "notes.txt")
    assert text.status_code == 422 and "Not a media file" in text.json()["detail"]

    e1 = (await analyze(lib.media["anime_e1"])).json()
    assert e1["file_path"] == str(lib.media["anime_e1"]) and e1["is_video"] is True
    assert 0.5 < e1["duration_seconds"] < 2
    tracks = [(t["index"], t["codec"], t["language"], t["channels"], t["default"])
              for t in e1["audio_tracks"]]  # fmt: skip
    assert tracks == [(0, "aac", "jpn", 1, True), (1, "aac", "eng", 1, False)]
    assert [(Path(s["path"]).name, s["language"]) for s in e1["external_subtitles"]] == [
        ("Show Ñame - S01E01.es.ass", "spa")
    ]
    film = (await analyze(lib.media["film_mp4"])).json()
    assert [t["commentary"] for t in film["audio_tracks"]] == [False, True]
    subs = {(Path(s["path"]).name, s["language"], s["hearing_impaired"])
            for s in film["external_subtitles"]}  # fmt: skip
    assert subs == {("Film Two.English.sdh.srt", "eng", True), ("Film Two.pt-BR.srt", "por", False)}
    pgs = (await analyze(lib.media["film_pgs"])).json()
    (sub,) = pgs["embedded_subtitles"]
    assert (sub["language"], sub["is_text"]) == ("fra", False)
    podcast = (await analyze(lib.media["podcast"])).json()
    assert podcast["is_video"] is False and len(podcast["audio_tracks"]) == 1


async def test_a_cancelled_job_is_not_recreated_until_the_file_changes(
    client: httpx.AsyncClient, daemon: Daemon, lib: Library
) -> None:
    await _setup(client, daemon, lib)
    await client.post("/api/scanner/scan")
    e2 = lib.media["anime_e2"]
    (job,) = [j for j in await _jobs(daemon) if j.file_path == str(e2)]
    assert (await client.post(f"/api/jobs/{job.id}/cancel")).status_code == 200
    again = (await client.post("/api/scanner/scan")).json()
    assert (again["jobs_created"], again["previously_ended"], again["already_queued"]) == (0, 1, 2)
    # the file is replaced (a newer mtime): it is queued again
    st = e2.stat()
    os.utime(e2, ns=(st.st_atime_ns, st.st_mtime_ns + 3600 * 10**9))
    third = (await client.post("/api/scanner/scan")).json()
    assert third["jobs_created"] == 1 and third["previously_ended"] == 0
    live = [j for j in await _jobs(daemon) if j.file_path == str(e2) and j.status == "queued"]
    assert len(live) == 1
    # a job the watcher cancelled because its file went away never blocks the file's return
    await daemon.scanner.file_gone(str(e2), "deleted", False)
    fourth = (await client.post("/api/scanner/scan")).json()
    assert fourth["jobs_created"] == 1
    os.utime(e2, ns=(st.st_atime_ns, st.st_mtime_ns))
