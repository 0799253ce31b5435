"""The real pyannote.audio loading and inference code (needs the diarization extra): a job with
diarize on runs a local pipeline folder built from pyannote's own model classes with random
weights (no hub); and pyannote's shipped two-speaker sample checks the word assignment."""

from __future__ import annotations

import collections
import difflib
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyannote.audio", reason="the diarization extra is not installed")

from subtitler.settings import REGISTRY
from subtitler.subtitles.speakers import Turn, assign_speakers
from subtitler.workers.models import configure_hub, resolve_model
from subtitler.workers.pipeline import JobRunner
from tests.diarization.pipelinegen import build_pipeline
from tests.speechgen import MediaFactory, Track

configure_hub(allow_download=False)
pytestmark = pytest.mark.slow
SAMPLE = Path(__import__("pyannote.audio").audio.__file__).parent / "sample"


class Recorder:
    def __init__(self) -> None:
        self.stages: list[str] = []
        self.progress_values: list[float] = []
        self.lines: list[str] = []

    def progress(self, progress: float, *, stage: str | None = None, **fields: Any) -> None:
        self.progress_values.append(progress)
        if stage:
            self.stages.append(str(stage))

    def log(self, message: str, *, level: str = "info") -> None:
        self.lines.append(message)

    def cancelled(self) -> bool:
        return False


@pytest.fixture(scope="module")
def pipeline_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_pipeline(tmp_path_factory.mktemp("diarization") / "random", step=0.5)


def settings(**values: Any) -> dict[str, Any]:
    out = {key: spec.default for key, spec in REGISTRY.items()}
    out["preset_fast"] = {**out["preset_fast"], "model": "tiny.en"}
    out["__cpu_threads__"] = 2
    out.update(values)
    return out


def test_a_diarized_job_completes_and_its_words_carry_speakers(
    tmp_path: Path, pipeline_folder: Path
) -> None:
    media = MediaFactory(tmp_path / "media")
    first = media.speech("Are you coming to the station with us tonight?", voice="en-us")
    video = media.mkv([Track(first, language="eng", default=True)], name="Talk.mkv")
    recorder = Recorder()
    result = JobRunner(worker_id="t", device="cpu", device_index=0).run(
        job={"id": "t", "quality_preset": "fast", "written_subtitles": {},
             "file_path": str(video), "job_type": "transcription", "output_format": "json",
             "options": {"diarize": True, "max_speakers": 2}},
        settings=settings(diarization_pipeline=str(pipeline_folder)),
        models_dir=str(tmp_path / "models"),
        reporter=recorder,
    )  # fmt: skip
    assert recorder.stages.index("transcribing") < recorder.stages.index("diarizing")
    assert recorder.stages.index("diarizing") < recorder.stages.index("writing")
    assert recorder.progress_values == sorted(recorder.progress_values)
    summary = result["diarization"]
    assert 1 <= summary["speakers"] <= 2 and summary["turns"] >= 1
    assert all(re.fullmatch(r"SPEAKER_\d\d", s) for s in summary["talk_time"])
    doc = json.loads(Path(result["output_path"]).read_text(encoding="utf-8"))
    words = [w for s in doc["segments"] for w in s["words"]]
    assert words and all(re.fullmatch(r"SPEAKER_\d\d", w["speaker"]) for w in words)
    assert all(c["speakers"] for c in doc["cues"])
    assert any("diarized" in line and "speakers" in line for line in recorder.lines)
    stored = result["stored_cues"]["segments"]
    assert all(len(w) == 5 for s in stored for w in s["words"])


def _rttm() -> list[Turn]:
    turns = []
    for line in (SAMPLE / "sample.rttm").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, length = float(parts[3]), float(parts[4])
            turns.append(Turn(start, start + length, parts[7]))
    return turns


def _stm_words() -> list[tuple[str, str]]:
    """(word, speaker name) of the reference transcript, in order."""
    out = []
    for line in (SAMPLE / "sample.stm").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6:
            out += [(_norm(word), parts[2]) for word in parts[5].split() if _norm(word)]
    return out


def _norm(word: str) -> str:
    return re.sub(r"[^a-z0-9']", "", word.lower())


def test_reference_turns_give_the_right_speaker_to_whispers_words(tmp_path: Path) -> None:
    """pyannote's sample.wav (two people on the phone): its reference turns (sample.rttm) through
    the word assignment onto tiny.en's words; the transcript's speakers (sample.stm) judge."""
    import wave

    import numpy as np

    from subtitler.subtitles.cleanup import clean_segments
    from subtitler.workers.engine import TranscriptionEngine

    with wave.open(str(SAMPLE / "sample.wav")) as wav:
        assert wav.getframerate() == 16000 and wav.getnchannels() == 1
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    samples = pcm.astype(np.float32) / 32768
    engine = TranscriptionEngine(
        model=resolve_model("tiny.en", models_dir=tmp_path), device="cpu", cpu_threads=2
    )
    engine.load()
    try:
        result = engine.transcribe(samples, language="en", task="transcribe",
                                   word_timestamps=True, vad_filter=False)  # fmt: skip
    finally:
        engine.unload()
    segments = assign_speakers(clean_segments(result.segments), _rttm())
    words = [w for s in segments for w in s.words]
    assert len(words) >= 40
    # Each Whisper word is judged by the reference transcript's word it aligns with (text, not
    # time: the transcript's utterance times are rounder than Whisper's word times).
    reference = _stm_words()
    mine = [_norm(w.word) for w in words]
    matcher = difflib.SequenceMatcher(None, mine, [word for word, _ in reference], autojunk=False)
    truth: dict[int, str] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            truth[block.a + k] = reference[block.b + k][1]
    assert len(truth) >= 0.85 * len(words), "Whisper's words follow the reference transcript"
    # the transcript's names (Diane, Sheila) against the turns' ids (speaker90, speaker91)
    votes = collections.Counter((truth[i], words[i].speaker) for i in truth)
    mapping = {name: max((k for k in votes if k[0] == name), key=votes.__getitem__)[1]
               for name in {name for _, name in reference}}  # fmt: skip
    assert len(set(mapping.values())) == 2
    right = sum(words[i].speaker == mapping[name] for i, name in truth.items())
    assert right / len(truth) >= 0.95, (right, len(truth))
