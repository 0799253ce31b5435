"""Forced subtitles (issue 22) through the real pipeline: espeak-ng speech, ffmpeg, Silero VAD
and the bundled multilingual base model; only the foreign passages get cues."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from subtitler.daemon import Daemon
from subtitler.settings import REGISTRY
from subtitler.workers.pipeline import JobRunner
from tests.integration.test_worker_pool import job_in, wait_for
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


# --- through the daemon: a rule with the forced action on a library, a real worker process ----
@pytest.fixture
async def worker(client: httpx.AsyncClient) -> AsyncIterator[None]:
    resp = await client.post("/api/workers", json={"worker_type": "cpu"})
    assert resp.status_code == 201, resp.text

    async def idle() -> bool:
        return (await client.get("/api/workers/worker-cpu-0")).json()["status"] == "idle"

    await wait_for(idle, timeout=120, what="worker to start")
    yield


@pytest.mark.slow
async def test_forced_rule_on_a_library_queues_one_job_per_file_and_the_library_shows_them(
    client: httpx.AsyncClient, daemon: Daemon, media: MediaFactory, tmp_path: Path, worker: None
) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    en, de, gap = media.speech(ENGLISH), media.speech(GERMAN, voice="de"), media.silence(1.0)
    mixed = media.mkv([Track(media.concat([en, gap, de, gap, en]), language="eng")], video=False)
    shutil.copy(mixed, lib / "Spy Film.mkv")
    shutil.copy(media.mkv([Track(en, language="eng")], video=False), lib / "Plain Film.mkv")
    preset = dict(REGISTRY["preset_balanced"].default)
    await daemon.settings.bulk_update(
        {"library_paths": [str(lib)], "preset_balanced": {**preset, "model": "base"}}
    )
    rule = {"name": "Forced English", "action": {"action_type": "forced",
                                                  "target_language": "en"}}  # fmt: skip
    assert (await client.post("/api/scan-rules", json=rule)).status_code == 201
    assert (await client.post("/api/scanner/scan")).status_code == 200
    jobs = (await client.get("/api/jobs", params={"page_size": 50})).json()["jobs"]
    assert sorted((j["file_name"], j["variant"], j["target_lang"]) for j in jobs) == [
        ("Plain Film.mkv", "forced", "eng"),
        ("Spy Film.mkv", "forced", "eng"),
    ]
    done = {}
    for job in jobs:
        done[job["file_name"]] = await wait_for(
            lambda j=job: job_in(client, j["id"], "completed", "failed"), timeout=800,
            what=f"forced job on {job['file_name']}",
        )  # fmt: skip
    spy, plain = done["Spy Film.mkv"], done["Plain Film.mkv"]
    assert spy["status"] == "completed", spy
    assert spy["forced_passages"] == 1 and spy["passages"][0]["language"] == "deu"
    assert spy["output_path"].endswith("Spy Film.eng.forced.srt")
    assert (lib / "Spy Film.eng.forced.srt").exists()
    assert plain["status"] == "completed" and plain["forced_passages"] == 0
    assert plain["output_path"] is None and not (lib / "Plain Film.eng.forced.srt").exists()
    log = [line["message"] for line in (await client.get(f"/api/jobs/{spy['id']}/log")).json()]
    assert any("1 foreign passage" in line for line in log)

    assert (await client.post("/api/scanner/scan")).status_code == 200  # no second job
    again = (await client.get("/api/jobs", params={"page_size": 50})).json()["jobs"]
    assert len(again) == 2
    items = (await client.get("/api/library")).json()["items"]
    by_name = {i["name"]: i for i in items}
    assert by_name["Spy Film.mkv"]["subtitles"]["forced"] == ["eng"]
    assert by_name["Spy Film.mkv"]["subtitles"]["ours"] == []
    assert by_name["Plain Film.mkv"]["subtitles"]["forced"] == []
    (lib / "Spy Film.eng.forced.srt").unlink()  # still known: passages, no forced subtitle
    async with daemon.db.write() as session:
        from sqlalchemy import delete

        from subtitler.db.models import WrittenSubtitle

        await session.execute(delete(WrittenSubtitle))
    wanting = (await client.get("/api/library", params={"status": "foreign_no_forced"})).json()
    assert [i["name"] for i in wanting["items"]] == ["Spy Film.mkv"]


@pytest.mark.slow
async def test_asr_forced_option_answers_with_the_foreign_passages_only(
    client: httpx.AsyncClient, daemon: Daemon, media: MediaFactory, worker: None
) -> None:
    en, de, gap = media.speech(ENGLISH), media.speech(GERMAN, voice="de"), media.silence(1.0)
    wav = media.concat([en, gap, de, gap, en])
    preset = dict(REGISTRY["preset_balanced"].default)
    await daemon.settings.bulk_update(
        {"asr_quality_preset": "balanced", "preset_balanced": {**preset, "model": "base"}}
    )
    german = (_seconds(en) + 1.0, _seconds(en) + 1.0 + _seconds(de))
    with wav.open("rb") as fh:
        resp = await client.post(
            "/asr", params={"forced": "en", "language": "en", "output": "srt"},
            files={"audio_file": ("mixed.wav", fh)}, timeout=800,
        )  # fmt: skip
    assert resp.status_code == 200, resp.text
    times = parse_srt_times(resp.text)
    assert times, resp.text
    for start, end in times:
        assert german[0] - 1.0 <= start and end <= german[1] + 1.0, (start, end, german)
    assert "london" not in resp.text.lower()
    jobs = (await client.get("/api/jobs", params={"page_size": 10})).json()["jobs"]
    [job] = [j for j in jobs if j["job_type"] == "asr"]
    assert job["forced_passages"] == 1 and job["passages"][0]["language"] == "deu"
    bad = await client.post("/asr", params={"forced": "xx-nope"}, files={"audio_file": b"x"})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_language"
