"""Forced subtitles (issue 22) through the real pipeline: espeak-ng speech, ffmpeg, Silero VAD
and the bundled multilingual base model; only the foreign passages get cues."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from subtitler.settings import REGISTRY
from subtitler.workers.pipeline import JobRunner
from tests.speechgen import ENGLISH, GERMAN, MediaFactory, Track

pytestmark = pytest.mark.timeout(900)


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def progress(self, progress: float, **fields: Any) -> None:
        pass

    def log(self, message: str, *, level: str = "info") -> None:
        self.lines.append(message)

    def cancelled(self) -> bool:
        return False


@pytest.fixture(scope="module")
def runner() -> JobRunner:
    return JobRunner(worker_id="forced", device="cpu", device_index=0)


def _settings() -> dict[str, Any]:
    settings = {key: spec.default for key, spec in REGISTRY.items()}
    settings["preset_balanced"] = {**settings["preset_balanced"], "model": "base"}
    settings["__cpu_threads__"] = 2
    return settings


def _run(runner: JobRunner, media: Path, models_dir: Path, target: str) -> tuple[dict, Recorder]:
    reporter = Recorder()
    job = {"id": "f1", "file_path": str(media), "quality_preset": "balanced",
           "target_lang": target, "variant": "forced", "written_subtitles": {}}  # fmt: skip
    result = runner.run(job=job, settings=_settings(), models_dir=str(models_dir),
                        reporter=reporter)  # fmt: skip
    return result, reporter


def test_german_passage_in_english_film_gets_english_forced_cues_only_there(
    media: MediaFactory, models_dir: Path, runner: JobRunner, tmp_path: Path
) -> None:
    en, de, gap = media.speech(ENGLISH), media.speech(GERMAN, voice="de"), media.silence(1.0)
    wav = media.concat([en, gap, de, gap, en])
    film = tmp_path / "Film.mkv"
    film.symlink_to(media.mkv([Track(wav, language="eng")], video=False))
    en_seconds = _seconds(en)
    german = (en_seconds + 1.0, en_seconds + 1.0 + _seconds(de))

    result, reporter = _run(runner, film, models_dir, "eng")

    assert result["forced_passages"] == 1
    [passage] = result["passages"]
    assert passage["language"] == "deu" and passage["subtitled"] is True
    assert passage["confidence"] >= 0.6
    assert abs(passage["start"] - german[0]) < 1.0 and abs(passage["end"] - german[1]) < 1.0
    out = Path(result["output_path"])
    assert out.name == "Film.eng.forced.srt" and out.exists()
    text = out.read_text()
    times = parse_srt_times(text)
    assert times, text
    for start, end in times:  # cues within the German passage (±1 s), none outside it
        assert german[0] - 1.0 <= start and end <= german[1] + 1.0, (start, end, german)
    lowered = text.lower()
    assert re.search(r"\b(weather|berlin|visitors|evening|news|rain)", lowered), text
    assert not re.search(r"\b(wetter|nachrichten|besucher|willkommen)\b", lowered), text
    assert "london" not in lowered  # the English speech is not subtitled
    assert any("1 foreign passage" in line and "deu" in line for line in reporter.lines)


def test_all_english_film_gets_no_forced_subtitle(
    media: MediaFactory, models_dir: Path, runner: JobRunner, tmp_path: Path
) -> None:
    film = tmp_path / "English.mkv"
    film.symlink_to(media.mkv([Track(media.speech(ENGLISH), language="eng")], video=False))

    result, reporter = _run(runner, film, models_dir, "eng")

    assert result["forced_passages"] == 0 and result["passages"] == []
    assert "output_path" not in result
    assert not list(tmp_path.glob("*.srt"))
    assert any("no forced subtitle written" in line for line in reporter.lines)


def test_passage_in_the_target_language_gets_no_forced_subtitle(
    media: MediaFactory, models_dir: Path, runner: JobRunner, tmp_path: Path
) -> None:
    """A German film with an English passage, for an English viewer: the passage is understood."""
    de, en, gap = media.speech(GERMAN, voice="de"), media.speech(ENGLISH), media.silence(1.0)
    film = tmp_path / "Heimat.mkv"
    film.symlink_to(media.mkv([Track(media.concat([de, gap, en]), language="ger")], video=False))

    result, reporter = _run(runner, film, models_dir, "eng")

    assert result["source_lang"] == "deu"
    assert result["forced_passages"] == 0
    assert [p["language"] for p in result["passages"]] == ["eng"]
    assert result["passages"][0]["subtitled"] is False
    assert not list(tmp_path.glob("*.srt"))
    assert any("is in eng already" in line for line in reporter.lines)


def parse_srt_times(text: str) -> list[tuple[float, float]]:
    stamp = r"(\d+):(\d+):(\d+),(\d+)"
    found = re.findall(stamp + " --> " + stamp, text)
    return [(_s(*m[:4]), _s(*m[4:])) for m in found]


def _s(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _seconds(wav: Path) -> float:
    import wave

    with wave.open(str(wav)) as fh:
        return fh.getnframes() / fh.getframerate()
