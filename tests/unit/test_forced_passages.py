"""Forced subtitles (issue 22), the pure parts: passages from per-window and per-span language
identification, and the forced rule action beside a plain subtitle of the same language."""

from __future__ import annotations

import numpy as np

from subtitler.rules import evaluate
from subtitler.workers.passages import find_passages, pack_windows
from tests.unit.test_rules_engine import media, rule

RATE = 16000


def _identify_by_level(levels: dict[float, str]) -> object:
    """An identification reading the language a test wrote into the samples' amplitude (the
    real one is Whisper's; tests/integration/test_forced.py runs it)."""
    calls: list[float] = []

    def one(clip: np.ndarray) -> dict[str, float]:
        calls.append(len(clip) / RATE)
        counts: dict[str, float] = {}
        for level, lang in levels.items():
            counts[lang] = counts.get(lang, 0.0) + float(np.sum(np.isclose(clip, level)))
        total = sum(counts.values()) or 1.0
        return {lang: n / total for lang, n in counts.items()}

    def identify(clips: list[np.ndarray], *, padded: bool = False) -> list[dict[str, float]]:
        return [one(clip) for clip in clips]

    identify.calls = calls  # type: ignore[attr-defined]
    return identify


def _audio(parts: list[tuple[float, float]]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """(level, seconds) pieces, one VAD span each, 0.5 s of silence between them."""
    chunks, spans, t = [], [], 0.0
    for level, seconds in parts:
        chunks.append(np.full(int(seconds * RATE), level, dtype=np.float32))
        spans.append((t, t + seconds))
        chunks.append(np.zeros(int(0.5 * RATE), dtype=np.float32))
        t += seconds + 0.5
    return np.concatenate(chunks), spans


def test_pack_windows_holds_about_the_window_of_speech() -> None:
    spans = [(0.0, 4.0), (4.5, 8.0), (9.0, 12.0), (13.0, 25.0), (26.0, 27.0)]
    assert pack_windows(spans, window_seconds=10.0) == [[0, 1], [2], [3], [4]]


def test_a_foreign_stretch_is_one_passage_and_a_foreign_name_is_none() -> None:
    en, de = 0.1, 0.2
    audio, spans = _audio(
        [(en, 4), (en, 4), (de, 0.8), (en, 4),  # a German name: under the minimum
         (en, 3), (de, 4), (de, 3), (de, 4), (en, 4), (en, 4)]
    )  # fmt: skip
    identify = _identify_by_level({en: "en", de: "de"})
    search = find_passages(audio, spans, main_language="en", identify=identify, min_seconds=3)
    [passage] = search.passages
    assert passage.language == "deu" and passage.confidence > 0.99
    assert (passage.start, passage.end) == (spans[5][0], spans[7][1])
    # windows first, single spans only where a window was not clearly English
    assert search.windows == len(pack_windows(spans, window_seconds=10.0))
    assert search.refined < len(spans)


def test_all_main_language_needs_no_refinement() -> None:
    audio, spans = _audio([(0.1, 5)] * 6)
    identify = _identify_by_level({0.1: "en"})
    search = find_passages(audio, spans, main_language="en", identify=identify)
    assert search.passages == [] and search.refined == 0


def test_forced_rule_queues_beside_a_plain_subtitle_and_stops_once_produced() -> None:
    rules = [
        rule("forced", action_type="forced", target_language="eng", priority=2),
        rule("plain", action_type="transcribe", target_language=None),
    ]
    jobs = evaluate(rules, media("eng"))
    assert [(j.target_lang, j.variant) for j in jobs] == [("eng", "forced"), ("eng", "")]
    assert jobs[0].dedup_key != jobs[1].dedup_key
    # a plain English subtitle does not count as the forced one, nor the other way round
    only_forced = evaluate(rules, media("eng"), produced=[("eng", "transcribe")])
    assert [j.variant for j in only_forced] == ["forced"]
    only_plain = evaluate(rules, media("eng"), produced=[("eng", "forced")])
    assert [j.variant for j in only_plain] == [""]


def test_speech_the_model_cannot_place_is_no_passage() -> None:
    """Not English, but no language is likely either (three guesses of a third each): dropped."""
    audio, spans = _audio([(0.1, 5), (0.2, 4), (0.3, 4), (0.4, 4), (0.1, 5)])
    identify = _identify_by_level({0.1: "en", 0.2: "la", 0.3: "fi", 0.4: "cs"})
    search = find_passages(audio, spans, main_language="en", identify=identify)
    assert search.passages == [] and search.refined > 0


def test_one_language_a_few_seconds_apart_is_one_passage() -> None:
    """German, a short span the model heard as English, German again: one scene, one passage."""
    en, de = 0.1, 0.2
    audio, spans = _audio([(en, 5), (en, 5), (de, 4), (de, 4), (en, 2), (de, 4), (de, 4), (en, 5)])
    identify = _identify_by_level({en: "en", de: "de"})
    search = find_passages(audio, spans, main_language="en", identify=identify)
    [passage] = search.passages
    assert (passage.start, passage.end) == (spans[2][0], spans[6][1])
    assert passage.language == "deu"
