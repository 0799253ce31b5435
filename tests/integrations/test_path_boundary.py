"""The library boundary (issue 19): every entry point that takes a path (webhooks, scans, the
watcher, library actions, /asr, analyze, POST /api/jobs) uses one check: `..` collapsed and
symlinks followed before use, refused outside library_paths/allowed_paths, and refused
everywhere when no library folder is set at all. Nothing is queued or written outside."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from subtitler.daemon import Daemon
from subtitler.errors import Forbidden
from tests.integrations.conftest import Lib, hook, jobs, payload


@pytest.fixture
def outside(tmp_path: Path, lib: Lib, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder beside the library holding real media; only the library is allowed."""
    folder = tmp_path / "outside"
    folder.mkdir()
    shutil.copyfile(lib.episode, folder / "en.mkv")
    monkeypatch.setenv("SUBTITLER_ALLOWED_PATHS", "")
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def sonarr(remote: httpx.AsyncClient, daemon: Daemon, their_path: str) -> dict[str, object]:
    body = payload("sonarr_download.json")
    body["episodeFile"]["path"] = their_path
    answer = await remote.post(hook(daemon, "sonarr"), json=body)
    assert answer.status_code == 200, answer.text
    data: dict[str, object] = answer.json()
    return data


async def test_webhook_dotdot_and_symlink_out_of_the_library_are_refused(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib, outside: Path
) -> None:
    await wired.settings.update("library_paths", [str(lib.root)])
    before = listing(outside)
    # /tv maps to <tmp>/library/tv: two `..` reach <tmp>/outside
    dotdot = await sonarr(remote, wired, "/tv/../../outside/en.mkv")
    assert dotdot["status"] == "ignored"
    assert "outside the library folders" in str(dotdot["reason"])
    (lib.tv / "link").symlink_to(outside, target_is_directory=True)
    linked = await sonarr(remote, wired, "/tv/link/en.mkv")
    assert linked["status"] == "ignored"
    assert "outside the library folders" in str(linked["reason"])
    (lib.tv / "film.mkv").symlink_to(outside / "en.mkv")
    file_link = await sonarr(remote, wired, "/tv/film.mkv")
    assert file_link["status"] == "ignored"
    assert await jobs(wired) == []
    assert listing(outside) == before  # nothing written beside the outside file

    # A `..` that stays inside is used collapsed: the job holds the real, normal path.
    inside = await sonarr(
        remote, wired, "/tv/The Expanse/../" + str(lib.episode.relative_to(lib.tv))
    )
    assert inside["status"] == "queued", inside
    assert [j.file_path for j in await jobs(wired)] == [str(lib.episode)]


async def test_no_library_folder_refuses_every_path(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib, outside: Path
) -> None:
    await wired.settings.update("library_paths", [])
    refused = await sonarr(remote, wired, "/tv/" + str(lib.episode.relative_to(lib.tv)))
    assert refused["status"] == "ignored"
    assert "outside the library folders" in str(refused["reason"])
    key = {"X-API-Key": str(wired.settings.get("api_key"))}
    job = await remote.post(
        "/api/jobs", json={"file_path": str(lib.episode), "target_lang": "eng"}, headers=key
    )
    assert job.status_code == 403 and job.json()["code"] == "path_not_allowed"
    assert "no library folder is set" in job.json()["detail"]
    scan = await remote.post("/api/scanner/scan", json={"paths": [str(lib.root)]}, headers=key)
    assert scan.status_code == 403 and scan.json()["code"] == "path_not_allowed"
    assert await wired.scanner.file_settled(str(lib.episode), str(lib.root)) == 0
    assert await jobs(wired) == []


async def test_scans_stay_inside_the_library(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib, outside: Path
) -> None:
    await wired.settings.update("library_paths", [str(lib.root)])
    key = {"X-API-Key": str(wired.settings.get("api_key"))}
    out = await remote.post("/api/scanner/scan", json={"paths": [str(outside)]}, headers=key)
    assert out.status_code == 403 and out.json()["code"] == "path_not_allowed"
    dotdot = str(lib.root / ".." / "outside")
    out = await remote.post("/api/scanner/scan", json={"paths": [dotdot]}, headers=key)
    assert out.status_code == 403 and out.json()["code"] == "path_not_allowed"
    (lib.tv / "link").symlink_to(outside, target_is_directory=True)
    via_link = await remote.post(
        "/api/scanner/scan", json={"paths": [str(lib.tv / "link")]}, headers=key
    )
    assert via_link.status_code == 403
    analyze = await remote.post(
        "/api/scanner/analyze", params={"file_path": str(lib.tv / "link" / "en.mkv")}, headers=key
    )
    assert analyze.status_code == 403

    # The whole library (as the scheduled scan does): the symlinked folder is not followed.
    (lib.movies / "film.mkv").symlink_to(outside / "en.mkv")
    result = await wired.scanner.scan(trigger="schedule")
    assert result.skipped.get("outside") == 2
    queued = {j.file_path for j in await jobs(wired)}
    assert queued and all(p.startswith(str(lib.root)) for p in queued)
    assert not any("link" in p or "film.mkv" in p for p in queued)
    assert await wired.scanner.file_settled(str(lib.tv / "link" / "en.mkv"), str(lib.root)) == 0

    # A scheduled scan of folders outside the library is refused the same way.
    await wired.settings.update("scanner_schedule_paths", [str(outside)])
    with pytest.raises(Forbidden):
        await wired.scanner.control._scheduled_run("scheduled")
    assert not any(p.startswith(str(outside)) for p in {j.file_path for j in await jobs(wired)})


async def test_ignore_folder_through_a_symlink_is_refused(
    remote: httpx.AsyncClient, wired: Daemon, lib: Lib, outside: Path
) -> None:
    await wired.settings.update("library_paths", [str(lib.root)])
    (lib.tv / "link").symlink_to(outside, target_is_directory=True)
    key = {"X-API-Key": str(wired.settings.get("api_key"))}
    answer = await remote.post(
        "/api/library/ignore-folder", json={"folder": str(lib.tv / "link")}, headers=key
    )
    assert answer.status_code == 400 and answer.json()["code"] == "outside_library"
    assert not (outside / ".subtitlerignore").exists()
