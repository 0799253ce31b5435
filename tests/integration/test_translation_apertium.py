"""Translation for real with apertium (Debian's eng<->spa): speech -> Spanish subtitle, an English
subtitle -> .spa.srt without listening, the rules' job types, all or nothing on provider failure."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pysubs2
import pytest
from sqlalchemy import func, select

from subtitler.daemon import Daemon
from subtitler.db.models_translation import TranslationCacheEntry
from subtitler.errors import SubtitlerError
from subtitler.settings import REGISTRY
from subtitler.workers.pipeline import JobRunner
from tests.integration.test_worker_pool import job_in, wait_for
from tests.mediagen import Audio, Spec, Sub, make_media
from tests.speechgen import ENGLISH, MediaFactory, Track
from tests.subnorms import check
from tests.translation_servers import fake_provider

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium not installed")

SPANISH_WORDS = {"el", "la", "los", "las", "de", "del", "y", "en", "es", "que", "para", "este"}
ENGLISH_SRT = """1
00:00:00,500 --> 00:00:02,000
<i>Good evening, my friend.</i>

2
00:00:02,100 --> 00:00:04,000
The house is very big and the garden is beautiful in the summer.

3
00:00:05,000 --> 00:00:06,500
- Where are you going?
- To the station.
"""


class Recorder:
    def __init__(self) -> None:
        self.stages: list[str] = []
        self.lines: list[str] = []
        self.translation_cache = None

    def progress(
        self,
        progress: float,
        *,
        stage: str | None = None,
        eta_seconds: float | None = None,
        **fields: Any,
    ) -> None:
        if stage:
            self.stages.append(str(stage))

    def log(self, message: str, *, level: str = "info") -> None:
        self.lines.append(message)

    def cancelled(self) -> bool:
        return False


def defaults(**values: Any) -> dict[str, Any]:
    settings = {key: spec.default for key, spec in REGISTRY.items()}
    settings["preset_fast"] = {**settings["preset_fast"], "model": "tiny.en"}
    settings.update(values)
    return settings


def reads_as_spanish(text: str) -> bool:
    words = re.findall(r"[a-záéíóúñü]+", text.lower())
    return sum(w in SPANISH_WORDS for w in words) >= max(3, len(words) // 8)


def run_job(job: dict[str, Any], settings: dict[str, Any], tmp: Path) -> tuple[dict, Recorder]:
    recorder = Recorder()
    runner = JobRunner(worker_id="test", device="cpu", device_index=0)
    result = runner.run(
        job={"id": "t", "quality_preset": "fast", "written_subtitles": {}, **job},
        settings=settings,
        models_dir=str(tmp / "models"),
        reporter=recorder,
    )
    return result, recorder


def test_english_speech_becomes_a_readable_spanish_subtitle(tmp_path: Path) -> None:
    media = MediaFactory(tmp_path / "media")
    video = media.mkv([Track(media.speech(ENGLISH), language="eng", default=True)], name="News.mkv")
    result, rec = run_job(
        {"file_path": str(video), "job_type": "translation", "target_lang": "spa"},
        defaults(),
        tmp_path,
    )
    assert result["translation_provider"] == "apertium" and result["translated_characters"] > 50
    assert result["output_path"].endswith("News.spa.srt") and result["output_language"] == "spa"
    assert "translating" in rec.stages
    assert rec.stages.index("transcribing") < rec.stages.index("translating")
    text = Path(result["output_path"]).read_text(encoding="utf-8")
    assert reads_as_spanish(text), text
    assert "tiempo" in text or "semanas" in text, text
    hard, soft = check(pysubs2.SSAFile.from_string(text))
    assert hard == [] and soft == [], (hard, soft, text)
    assert any("translated" in line and "apertium" in line for line in rec.lines)


def test_english_srt_becomes_spa_srt_without_listening(tmp_path: Path) -> None:
    video = make_media(
        tmp_path / "lib" / "Film.mkv", Spec(audio=(Audio(language="eng"),), duration=7)
    )
    (tmp_path / "lib" / "Film.en.sdh.srt").write_text(ENGLISH_SRT, encoding="utf-8")
    result, rec = run_job(
        {"file_path": str(video), "job_type": "subtitle_translation", "target_lang": "spa"},
        defaults(),
        tmp_path,
    )
    assert not {"extracting_audio", "loading_model", "transcribing"} & set(rec.stages)
    assert result["output_path"].endswith("Film.spa.sdh.srt")  # the SDH tag carries over
    subs = pysubs2.load(result["output_path"])
    text = Path(result["output_path"]).read_text(encoding="utf-8")
    assert "<i>Tarde buena, mi amigo.</i>" in text  # italics kept
    assert ("- Dónde" in text and "\n- A la estación" in text) or "- A la" in text  # dialogue lines
    assert reads_as_spanish(text) and "casa" in text and "jardín" in text
    hard, soft = check(subs)
    assert hard == [] and soft == [], (hard, soft, text)
    assert abs(subs[0].start - 500) <= 500 and subs[-1].start >= 5000  # the source's timing


def test_embedded_text_stream_is_extracted_and_image_subtitles_fall_back(tmp_path: Path) -> None:
    video = make_media(
        tmp_path / "lib" / "Show.mkv",
        Spec(audio=(Audio(language="eng"),), subs=(Sub(language="eng"),)),
    )
    result, rec = run_job(
        {"file_path": str(video), "job_type": "subtitle_translation", "target_lang": "spa"},
        defaults(),
        tmp_path,
    )
    assert "Hola" in Path(result["output_path"]).read_text(encoding="utf-8")
    assert any("embedded stream s:0" in line for line in rec.lines)
    # PGS only: not text -> the job listens instead (the sine tone has no speech)
    pgs = make_media(
        tmp_path / "lib" / "Pgs.mkv",
        Spec(audio=(Audio(language="eng"),), subs=(Sub(language="eng", image=True),)),
    )
    result, rec = run_job(
        {"file_path": str(pgs), "job_type": "subtitle_translation", "target_lang": "spa"},
        defaults(),
        tmp_path,
    )
    assert any("falling back to speech recognition" in line for line in rec.lines)
    assert "transcribing" in rec.stages and result["speech_detected"] is False


def test_a_failing_provider_writes_nothing(tmp_path: Path) -> None:
    video = make_media(tmp_path / "lib" / "Film.mkv", Spec(audio=(Audio(language="eng"),)))
    (tmp_path / "lib" / "Film.en.srt").write_text(ENGLISH_SRT, encoding="utf-8")
    with fake_provider("libretranslate") as (url, state):
        settings = defaults(
            translation_provider="libretranslate",
            libretranslate_url=url,
            translation_max_retries=1,
            translation_retry_base_seconds=0.01,
        )
        state.fail_posts = 502  # the languages answer, every translation fails
        with pytest.raises(SubtitlerError) as err:
            run_job(
                {"file_path": str(video), "job_type": "subtitle_translation", "target_lang": "spa"},
                settings,
                tmp_path,
            )
    assert err.value.code == "translation_provider_error" and "HTTP 502" in err.value.detail
    assert getattr(err.value, "fields", {}).get("translation_provider") == "libretranslate"
    assert not list((tmp_path / "lib").glob("Film.spa*")), "nothing half-translated is written"
    assert not list((tmp_path / "lib").glob(".subtitler-*"))


# --- through the daemon: a real worker process, the job log, the cache over the pipe ----------
@pytest.fixture
async def worker(client: httpx.AsyncClient) -> AsyncIterator[None]:
    resp = await client.post("/api/workers", json={"worker_type": "cpu"})
    assert resp.status_code == 201, resp.text

    async def idle() -> bool:
        return (await client.get("/api/workers/worker-cpu-0")).json()["status"] == "idle"

    await wait_for(idle, timeout=60, what="worker to start")
    yield


@pytest.mark.slow
async def test_daemon_translates_a_sidecar_with_no_asr_stage_and_caches(
    client: httpx.AsyncClient, daemon: Daemon, worker: None, tmp_path: Path
) -> None:
    lib = tmp_path / "lib"
    video = make_media(lib / "Film.mkv", Spec(audio=(Audio(language="eng"),), duration=7))
    (lib / "Film.en.srt").write_text(ENGLISH_SRT, encoding="utf-8")
    resp = await client.post("/api/jobs", json={"file_path": str(video), "target_lang": "es"})
    assert resp.status_code == 201, resp.text
    job = resp.json()
    assert job["job_type"] == "subtitle_translation"
    done = await wait_for(lambda: job_in(client, job["id"], "completed", "failed"), timeout=120)
    assert done["status"] == "completed", done
    assert done["translation_provider"] == "apertium" and done["translated_characters"] > 50
    assert done["output_path"] == str(lib / "Film.spa.srt")
    log = [line["message"] for line in (await client.get(f"/api/jobs/{job['id']}/log")).json()]
    assert any("instead of listening" in line for line in log)
    assert not any(line.startswith(("transcribed", "model ", "audio track")) for line in log)
    async with daemon.db.read() as session:
        cached = await session.scalar(select(func.count()).select_from(TranslationCacheEntry))
    assert cached == 4  # 3 cues, the dialogue one as two lines
    # the same subtitle beside another video: every cue from the cache, nothing sent
    other = lib / "Film Copy.mkv"
    shutil.copyfile(video, other)
    shutil.copyfile(lib / "Film.en.srt", lib / "Film Copy.en.srt")
    job2 = (
        await client.post("/api/jobs", json={"file_path": str(other), "target_lang": "spa"})
    ).json()
    done2 = await wait_for(lambda: job_in(client, job2["id"], "completed", "failed"), timeout=120)
    assert done2["status"] == "completed" and done2["translated_characters"] == 0, done2
    assert (lib / "Film Copy.spa.srt").read_text() == (lib / "Film.spa.srt").read_text()


async def test_rules_asking_for_spanish_queue_the_right_job_types(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    lib = tmp_path / "lib"
    english = Spec(audio=(Audio(language="eng", default=True),))
    make_media(lib / "With Srt.mkv", english)
    (lib / "With Srt.en.srt").write_text(ENGLISH_SRT, encoding="utf-8")
    make_media(lib / "No Subs.mkv", english)
    make_media(
        lib / "Image Subs.mkv",
        Spec(audio=(Audio(language="eng", default=True),), subs=(Sub(language="eng", image=True),)),
    )
    await daemon.settings.bulk_update({"library_paths": [str(lib)]})
    rule = {
        "name": "Spanish for everything",
        "action": {"action_type": "translate", "target_language": "es"},
    }
    assert (await client.post("/api/scan-rules", json=rule)).status_code == 201
    resp = await client.post("/api/scanner/scan")
    assert resp.status_code == 200, resp.text
    jobs = (await client.get("/api/jobs", params={"page_size": 50})).json()["jobs"]
    kinds = {j["file_name"]: (j["job_type"], j["target_lang"]) for j in jobs}
    assert kinds == {
        "With Srt.mkv": ("subtitle_translation", "spa"),
        "No Subs.mkv": ("translation", "spa"),
        "Image Subs.mkv": ("translation", "spa"),  # PGS is not text: listen
    }
    with_srt = next(j for j in jobs if j["file_name"] == "With Srt.mkv")
    async with daemon.db.read() as session:
        from subtitler.db.models import Job

        row = await session.get(Job, with_srt["id"])
    assert row is not None and row.options["subtitle_source"]["path"].endswith("With Srt.en.srt")


SPANNING_SRT = """1
00:00:01,000 --> 00:00:03,200
More than 2,000 people had to leave

2
00:00:03,300 --> 00:00:05,000
their homes last month,

3
00:00:05,100 --> 00:00:06,800
who waited for hours in the rain.

4
00:00:07,000 --> 00:00:08,400
Where will they sleep tonight?

5
00:00:08,500 --> 00:00:09,000
Great!

6
00:00:09,100 --> 00:00:11,600
{\\an8}The price of bread rose by 3.5 percent.
"""


def test_sentences_spanning_cues_read_as_spanish_within_the_norms(tmp_path: Path) -> None:
    video = make_media(
        tmp_path / "lib" / "News.mkv", Spec(audio=(Audio(language="eng"),), duration=12)
    )
    (tmp_path / "lib" / "News.en.srt").write_text(SPANNING_SRT, encoding="utf-8")
    result, rec = run_job(
        {"file_path": str(video), "job_type": "subtitle_translation", "target_lang": "spa"},
        defaults(),
        tmp_path,
    )
    text = Path(result["output_path"]).read_text(encoding="utf-8")
    subs = pysubs2.SSAFile.from_string(text)
    hard, soft = check(subs)
    assert hard == [] and soft == [], (hard, soft, text)
    plain = " ".join(ev.plaintext.replace("\n", " ") for ev in subs)
    assert "2000 personas" in plain and "3,5" in plain and "2,000" not in plain, plain
    assert "¿Dónde" in plain and "¡" in plain, plain
    assert "Quién" not in plain and "quién" in plain, plain  # no capital mid-sentence
    assert "{\\an8}" in text  # the position tag survives in SRT
    assert any("6 cues as 4 sentences" in line for line in rec.lines), rec.lines
    assert subs[0].start >= 500 and subs[-1].end >= 11000  # on the source's time
