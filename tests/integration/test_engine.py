"""Real faster-whisper on the bundled tiny.en and base models, on generated speech."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pysubs2
import pytest

from subtitler.errors import SubtitlerError
from subtitler.media.audio import choose_audio_track, extract_audio, probe_audio
from subtitler.settings import REGISTRY
from subtitler.subtitles.cleanup import clean_segments
from subtitler.subtitles.cues import CueStyle, build_cues
from subtitler.subtitles.formats import render
from subtitler.subtitles.naming import OutputOptions, subtitle_path
from subtitler.subtitles.writer import file_sha256, write_atomic
from subtitler.workers.engine import (
    Cancelled,
    TranscriptionEngine,
    TranscriptionResult,
    cuda_failure_reason,
    tally_votes,
    whisper_language,
)
from subtitler.workers.models import ResolvedModel, TranscribeOptions
from tests import subnorms
from tests.speechgen import ENGLISH, GERMAN, SPANISH, MediaFactory, Track, word_error_rate

pytestmark = pytest.mark.slow
SETTINGS = {key: spec.default for key, spec in REGISTRY.items()}


def _words(result: TranscriptionResult) -> str:
    return " ".join(s.text for s in result.segments).lower()


@pytest.fixture(scope="module")
def english_video(media: MediaFactory) -> Path:
    speech = media.speech(ENGLISH, voice="en-us")
    spanish = media.speech(SPANISH, voice="es")
    return media.mkv(
        [Track(spanish, language="spa", default=True), Track(speech, language="eng")],
        name="The Show S01E01.mkv",
    )


def test_english_video_to_a_readable_subtitle(
    english_video: Path, tiny_engine: TranscriptionEngine
) -> None:
    tracks, _ = probe_audio(english_video)
    track, _why = choose_audio_track(tracks, preferred_languages=["eng"])
    assert track.index == 1
    audio = extract_audio(english_video, track=track.index)
    options = TranscribeOptions.from_settings(SETTINGS, preset="balanced")
    calls: list[tuple[float, float, float | None]] = []
    result = tiny_engine.transcribe(
        audio.samples,
        language="en",
        progress=lambda f, eta: calls.append((time.monotonic(), f, eta)),
        progress_interval=0.5,
        **options.engine_kwargs(),
    )
    text = _words(result)
    for word in ("welcome", "weather", "london", "three weeks", "visitors"):
        assert word in text
    assert result.language == "en" and result.speech_ratio > 0.8
    assert result.segments[0].words and result.model == "tiny.en" and result.device == "cpu"
    # progress: moves at least every 2 s, never backwards, ends at 1.0
    assert calls and calls[-1][1] == 1.0
    fractions = [f for _, f, _ in calls]
    assert fractions == sorted(fractions)
    stamps = [t for t, _, _ in calls]
    assert all(b - a <= 2.0 for a, b in itertools.pairwise(stamps))

    style = CueStyle.from_settings(SETTINGS, language=result.language)
    segments = clean_segments(result.segments, speech=result.speech)
    cues = build_cues(segments, style)
    out = subtitle_path(
        english_video, language="eng", options=OutputOptions.from_settings(SETTINGS)
    )
    assert out.name == "The Show S01E01.eng.srt"
    digest = write_atomic(out, render(cues, fmt="srt"))
    assert digest == file_sha256(out)
    subs = pysubs2.load(str(out))
    assert len(subs) >= 3
    hard, soft = subnorms.check(subs, style)
    assert hard == []
    assert len(soft) <= 1, soft
    assert subs[0].start / 1000 == pytest.approx(result.segments[0].words[0].start, abs=0.01)
    assert result.speech is None  # the pipeline ran the only VAD pass


def test_three_window_detection_votes_german(
    media: MediaFactory, base_engine: TranscriptionEngine
) -> None:
    parts = [
        media.speech(GERMAN, voice="de"),
        media.silence(1.0),
        media.speech(GERMAN, voice="de+m3", speed=150),
        media.silence(1.0),
        media.speech(GERMAN, voice="de+f2", speed=175),
    ]
    audio = extract_audio(media.mkv([Track(media.concat(parts))], video=False))  # untagged
    assert audio.duration > 60
    found = base_engine.detect_language(audio.samples, min_confidence=0.5)
    assert (found.code, found.whisper_code) == ("deu", "de")
    assert len(found.votes) == 3 and found.confident
    assert [v[0] for v in found.votes] == sorted({v[0] for v in found.votes})
    gated = tally_votes(found.votes, min_confidence=found.confidence + 0.01)
    assert gated.code is None and gated.whisper_code == "de" and not gated.confident
    split = tally_votes([(0, "de", 0.9), (15, "en", 0.6), (30, "en", 0.5)], min_confidence=0.3)
    assert (split.code, round(split.confidence, 2)) == ("eng", 0.37)


def test_base_transcribes_spanish_with_detected_language(
    media: MediaFactory, base_engine: TranscriptionEngine
) -> None:
    audio = extract_audio(media.speech(SPANISH, voice="es"))
    result = base_engine.transcribe(audio.samples, beam_size=1)
    assert result.language == "es"
    assert any(w in _words(result) for w in ("madrid", "noticias", "semanas"))


@pytest.mark.parametrize("kind", ["silence", "music"])
def test_no_speech_gives_no_cues(
    kind: str, media: MediaFactory, base_engine: TranscriptionEngine
) -> None:
    wav = media.silence(20.0) if kind == "silence" else media.music(20.0)
    audio = extract_audio(wav)
    result = base_engine.transcribe(audio.samples, min_speech_ratio=0.01)
    assert result.speech_ratio <= 0.05
    assert build_cues(clean_segments(result.segments, speech=result.speech)) == []


def test_cancel_between_segments(english_video: Path, tiny_engine: TranscriptionEngine) -> None:
    audio = extract_audio(english_video, track=1)
    checks = iter([False])  # not cancelled at the start, cancelled after the first segment
    with pytest.raises(Cancelled) as err:
        tiny_engine.transcribe(audio.samples, language="en", cancel=lambda: next(checks, True))
    assert err.value.code == "cancelled"


def test_models_that_cannot_do_the_task_are_refused(tiny_engine: TranscriptionEngine) -> None:
    path = tiny_engine.model_info.path
    turbo = TranscriptionEngine(model=ResolvedModel("large-v3-turbo", path, "path"), device="cpu")
    with pytest.raises(SubtitlerError) as err:
        turbo.transcribe(np.zeros(16000, dtype=np.float32), task="translate")
    assert err.value.code == "translation_unsupported"
    assert not turbo.loaded  # refused before loading anything
    with pytest.raises(SubtitlerError) as err:
        tiny_engine.detect_language(np.zeros(16000, dtype=np.float32))
    assert err.value.code == "language_detection_unsupported"


def test_cuda_failure_falls_back_to_cpu_with_a_reason(
    tiny_engine: TranscriptionEngine, caplog: pytest.LogCaptureFixture
) -> None:
    engine = TranscriptionEngine(model=tiny_engine.model_info, device="cuda")
    engine.load()
    if engine.device == "cuda":
        pytest.skip("a working CUDA device is present: no fallback to check")
    assert engine.device == "cpu" and engine.compute_type == "int8"
    assert engine.fallback_reason and "CUDA 12" in engine.fallback_reason
    assert engine.fallback_reason in caplog.text
    reason = cuda_failure_reason(RuntimeError("Library libcublas.so.12 is not found"))
    assert reason.startswith("libcublas.so.12 could not be loaded")
    engine.unload()
    assert not engine.loaded and not engine.unload_if_idle(0)


def test_idle_model_is_unloaded(tiny_engine: TranscriptionEngine) -> None:
    engine = TranscriptionEngine(model=tiny_engine.model_info, device="cpu")
    engine.load()
    assert not engine.unload_if_idle(600)
    time.sleep(0.02)
    assert engine.unload_if_idle(0.01)
    assert not engine.loaded


def test_real_read_speech_word_error_rate(
    media: MediaFactory, librivox: list[tuple[Path, str]], base_engine: TranscriptionEngine
) -> None:
    gap = media.silence(0.8)
    parts = [part for wav, _ in librivox for part in (wav, gap)]
    audio = extract_audio(media.concat(parts))
    result = base_engine.transcribe(audio.samples, language="en", beam_size=5)
    reference = " ".join(text for _, text in librivox)
    hypothesis = " ".join(s.text for s in result.segments)
    assert word_error_rate(reference, hypothesis) <= 0.05, hypothesis
    cues = build_cues(clean_segments(result.segments, speech=result.speech))
    hard, _ = subnorms.check(pysubs2.SSAFile.from_string(render(cues)))
    assert hard == []


def test_translate_to_english_with_whisper(
    media: MediaFactory, base_engine: TranscriptionEngine
) -> None:
    audio = extract_audio(media.speech(GERMAN[:160], voice="de"))
    result = base_engine.transcribe(audio.samples, task="translate", language="de", beam_size=1)
    assert (result.task, result.language) == ("translate", "de")
    text = _words(result)
    assert "weather" in text and "berlin" in text


def test_language_codes_in_any_spelling(tiny_engine: TranscriptionEngine) -> None:
    assert [whisper_language(x) for x in ("ger", "deu", "de", "German", "haw")] == [
        "de", "de", "de", "de", "haw",
    ]  # fmt: skip
    with pytest.raises(SubtitlerError) as err:
        whisper_language("tlh")
    assert err.value.code == "language_unsupported"
    with pytest.raises(SubtitlerError) as err:
        tiny_engine.transcribe(np.zeros(16000, dtype=np.float32), language="spa")
    assert err.value.code == "model_language_mismatch"


def test_without_vad_long_audio_is_cut_in_whisper_windows(
    media: MediaFactory, tiny_engine: TranscriptionEngine
) -> None:
    speech = media.speech(ENGLISH, voice="en-us")
    audio = extract_audio(media.concat([speech, media.silence(3.0), speech, media.silence(3.0)]))
    assert audio.duration > 30
    result = tiny_engine.transcribe(audio.samples, language="en", vad_filter=False, beam_size=1)
    text = _words(result)
    assert text.count("london") == 2 and text.count("visitors") == 2
    assert result.speech and 0.6 < result.speech_ratio < 0.95  # the engine ran the VAD
