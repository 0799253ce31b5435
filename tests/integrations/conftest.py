"""Fixtures for the integrations tests: a generated library laid out as Sonarr/Radarr would,
path mappings from each sender's view to it, one rule, and a client on a remote address (so the
API key is really checked, as for a Sonarr on another machine)."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from subtitler.api import create_app
from subtitler.daemon import Daemon
from subtitler.db.models import Job
from tests.mediagen import Audio, Spec, make_media

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
EPISODE = "The Expanse/Season 01/The Expanse - S01E01 - Dulcinea WEBDL-1080p.mkv"
UPGRADE = "The Expanse/Season 01/The Expanse - S01E01 - Dulcinea Bluray-1080p.mkv"
MOVIE = "Arrival (2016)/Arrival (2016) Bluray-1080p.mkv"


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@dataclass
class Lib:
    root: Path
    tv: Path
    movies: Path
    episode: Path
    upgrade: Path
    movie: Path


@pytest.fixture(scope="session")
def media_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_media(
        tmp_path_factory.mktemp("master") / "eng.mkv", Spec(audio=(Audio(language="eng"),))
    )


@pytest.fixture
def lib(tmp_path: Path, media_master: Path) -> Lib:
    root = tmp_path / "library"
    tv, movies = root / "tv", root / "movies"
    files = [tv / EPISODE, tv / UPGRADE, movies / MOVIE]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(media_master, path)
    return Lib(root, tv, movies, *files)


def mappings(lib: Lib) -> list[list[str]]:
    """Every sender's view (fixtures) -> the generated library."""
    return [
        ["/tv", str(lib.tv)],
        ["/movies", str(lib.movies)],
        ["/data/tv", str(lib.tv)],
        ["/data/movies", str(lib.movies)],
        ["/mnt/media/movies", str(lib.movies)],
    ]


@pytest.fixture
async def wired(daemon: Daemon, lib: Lib) -> Daemon:
    await daemon.settings.bulk_update(
        {"path_mappings": mappings(lib), "notify_retry_seconds": 0.2, "notify_retries": 3}
    )
    await daemon.rules.create(
        {"name": "English subtitles", "conditions": {"audio_language_is": "eng",
         "missing_external_subtitle_lang": "en"}, "action": {"target_language": "eng"}}
    )  # fmt: skip
    return daemon


@pytest.fixture
async def remote(wired: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(wired), client=("203.0.113.50", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://subtitler") as http:
        yield http


def hook(daemon: Daemon, sender: str) -> str:
    return f"/api/webhooks/{sender}?apikey={daemon.settings.get('api_key')}"


async def jobs(daemon: Daemon) -> list[Job]:
    async with daemon.db.read() as session:
        return list((await session.scalars(select(Job).order_by(Job.created_at))).all())
