"""Foreign-language passages: where a film leaves its main language (issue 22).

Cheap first, precise where it matters: Silero VAD speech spans are packed into windows of a few
seconds of speech and each window gets one Whisper language identification (one encoder pass).
Only windows that do not sound like the main language are looked at span by span; consecutive
foreign spans form a candidate, which is identified once more on its own joined speech. A
candidate becomes a passage when that answer is another language than the main one, at or above
the confidence threshold, and it lasts at least the minimum length (a name or a foreign word
does not count). Nothing here decodes text: that is done for the passages only (forced.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from subtitler.media.languages import parse_language

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
WHISPER_SECONDS = 30.0  # Whisper's input: a language ID sees at most this much
MIN_ID_SECONDS = 1.0  # under a second of speech says nothing about its language
SUSPECT_BELOW = 0.8  # a window less sure than this of the main language is looked at span by span


@dataclass(frozen=True)
class Passage:
    start: float
    end: float
    language: str  # ISO 639-2/T ("deu")
    confidence: float  # that it is not the main language
    language_confidence: float = 0.0  # that it is `language`

    @property
    def duration(self) -> float:
        return self.end - self.start

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"], out["end"] = round(self.start, 2), round(self.end, 2)
        out["confidence"] = round(self.confidence, 3)
        out["language_confidence"] = round(self.language_confidence, 3)
        return out


@dataclass(frozen=True)
class PassageSearch:
    passages: list[Passage]
    windows: int  # language identifications on packed windows
    refined: int  # identifications of single spans and of candidates


class LanguageId:
    """Whisper's language identification on 16 kHz mono clips: {whisper code: probability}."""

    def __init__(self, whisper_model: Any) -> None:
        self._model = whisper_model

    def __call__(self, clip: np.ndarray) -> dict[str, float]:
        _, _, probs = self._model.detect_language(audio=clip[: int(WHISPER_SECONDS * SAMPLE_RATE)])
        return {str(lang): float(p) for lang, p in probs}


def pack_windows(spans: Sequence[tuple[float, float]], *, window_seconds: float) -> list[list[int]]:
    """Consecutive span indexes grouped so each group holds about `window_seconds` of speech."""
    windows: list[list[int]] = []
    current: list[int] = []
    held = 0.0
    for i, (start, end) in enumerate(spans):
        if current and held + (end - start) > window_seconds:
            windows.append(current)
            current, held = [], 0.0
        current.append(i)
        held += end - start
    if current:
        windows.append(current)
    return windows


def find_passages(
    audio: np.ndarray,
    spans: Sequence[tuple[float, float]],
    *,
    main_language: str,
    identify: Any,
    min_confidence: float = 0.6,
    min_seconds: float = 3.0,
    window_seconds: float = 10.0,
    cancelled: Any = None,
) -> PassageSearch:
    """The passages of `audio` (spans: VAD speech in s) in another language than `main_language`
    (a Whisper code, "en"). `identify(clip) -> {code: p}` is a LanguageId.

    A passage's confidence is how sure the identification is that it is *not* the main language
    (1 - p(main)); its language is the likeliest other one, over its spans and the whole."""
    windows = pack_windows(spans, window_seconds=window_seconds)
    suspect: list[int] = []  # span indexes to look at one by one
    for group in windows:
        if cancelled is not None and cancelled():
            break
        clip = _join(audio, [spans[i] for i in group])
        if len(clip) < MIN_ID_SECONDS * SAMPLE_RATE:
            continue
        if identify(clip).get(main_language, 0.0) < SUSPECT_BELOW:
            suspect.extend(group)
    refined = 0
    labels: dict[int, str | None] = {}  # span -> top language; None: too short to tell
    heard: dict[int, dict[str, float]] = {}
    for i in suspect:
        start, end = spans[i]
        if end - start < MIN_ID_SECONDS:
            labels[i] = None
            continue
        if cancelled is not None and cancelled():
            break
        heard[i] = identify(_join(audio, [spans[i]]))
        refined += 1
        labels[i] = max(heard[i], key=lambda k: heard[i][k])
    passages: list[Passage] = []
    for run in _foreign_runs(labels, main_language):
        start, end = spans[run[0]][0], spans[run[-1]][1]
        if end - start < min_seconds:
            continue
        whole = identify(_join(audio, [spans[i] for i in run]))
        refined += 1
        weights = {i: spans[i][1] - spans[i][0] for i in run if i in heard}
        total = sum(weights.values()) or 1.0
        probs: dict[str, float] = {}
        for lang, p in whole.items():
            probs[lang] = probs.get(lang, 0.0) + 0.5 * p
        for i, w in weights.items():
            for lang, p in heard[i].items():
                probs[lang] = probs.get(lang, 0.0) + 0.5 * p * w / total
        foreign = 1.0 - probs.get(main_language, 0.0)
        others = {k: v for k, v in probs.items() if k != main_language}
        lang = max(others, key=lambda k: others[k]) if others else main_language
        code = parse_language(lang)
        verdict = foreign >= min_confidence and code is not None
        logger.info("candidate %.1f-%.1f s: %s (%.2f), not %s %.2f: %s", start, end, lang,
                    probs.get(lang, 0.0), main_language, foreign,
                    "kept" if verdict else "dropped")  # fmt: skip
        if verdict and code is not None:
            passages.append(Passage(start=start, end=end, language=code, confidence=foreign,
                                    language_confidence=probs.get(lang, 0.0)))  # fmt: skip
    return PassageSearch(passages=passages, windows=len(windows), refined=refined)


def _foreign_runs(labels: dict[int, str | None], main_language: str) -> list[list[int]]:
    """Runs of consecutive spans not in the main language; unlabelled (short) spans between
    foreign ones join the run, a main-language span or a gap in the suspects ends it."""
    runs: list[list[int]] = []
    current: list[int] = []
    pending: list[int] = []  # short spans after the last foreign one
    previous = None
    for i in sorted(labels):
        if previous is not None and i != previous + 1:
            current, pending = _close(runs, current), []
        previous = i
        label = labels[i]
        if label is None:
            if current:
                pending.append(i)
            continue
        if label == main_language:
            current, pending = _close(runs, current), []
            continue
        current.extend(pending)
        pending = []
        current.append(i)
    _close(runs, current)
    return runs


def _close(runs: list[list[int]], current: list[int]) -> list[int]:
    if current:
        runs.append(current)
    return []


def _join(audio: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    parts = [audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] for s, e in spans]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
