"""Scans key files by their full path (issue 19): a folder holding `Movie.mkv` and `Movie.mp4`
(an ordinary remux beside its source) scans fine through the API and the scheduled scan, each
file gets its own job and both share the folder's sidecars."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from subtitler.daemon import Daemon
from subtitler.db.models import Job
from subtitler.media.sidecars import sidecars_by_media
from tests.mediagen import Audio, Spec, make_media


def test_sidecars_of_media_sharing_a_stem() -> None:
    found = sidecars_by_media(
        "/lib", names=["Movie.mkv", "Movie.mp4", "Movie.fr.srt"],
        media_names=["Movie.mkv", "Movie.mp4"],
    )  # fmt: skip
    assert sorted(found) == ["Movie.mkv", "Movie.mp4"]
    assert [s.path for s in found["Movie.mkv"]] == ["/lib/Movie.fr.srt"]
    assert [s.path for s in found["Movie.mp4"]] == ["/lib/Movie.fr.srt"]


async def test_scan_of_a_folder_with_two_containers_of_one_movie(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    spec = Spec(audio=(Audio(language="eng"),))
    mkv = make_media(root / "Movie (2020)" / "Movie.mkv", spec)
    mp4 = make_media(root / "Movie (2020)" / "Movie.mp4", spec)
    (mkv.parent / "Movie.fr.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nBonjour\n")
    await daemon.settings.update("library_paths", [str(root)])
    rule = {
        "name": "English",
        "conditions": {"audio_language_is": "eng", "missing_external_subtitle_lang": "en"},
        "action": {"target_language": "eng"},
    }
    await daemon.rules.create(rule)

    scan = await client.post("/api/scanner/scan", json={})
    assert scan.status_code == 200, scan.text
    assert scan.json()["scanned_files"] == 2 and scan.json()["jobs_created"] == 2
    async with daemon.db.read() as session:
        paths = sorted((await session.scalars(select(Job.file_path))).all())
    assert paths == [str(mkv), str(mp4)]

    scheduled = await daemon.scanner.scan(trigger="scheduled")
    assert scheduled.scanned_files == 2 and scheduled.already_queued == 2
    library = (await client.get("/api/library", params={"q": "Movie"})).json()
    names = sorted(Path(item["path"]).name for item in library["items"])
    assert names == ["Movie.mkv", "Movie.mp4"]
