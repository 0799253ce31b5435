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
MIN_LANGUAGE_CONFIDENCE = 0.5  # a passage's own language must be at least this likely
WINDOW_SECONDS = 10.0  # speech packed into one identification of the first pass
MERGE_GAP_SECONDS = 5.0  # passages of one language this close are one
BATCH = 8  # clips handed to the identification at once (between cancel checks)


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
    """Whisper's language identification on 16 kHz mono clips: clips -> [{code: probability}].

    The first pass encodes each window at its own length (CTranslate2 takes up to Whisper's 3000
    frames): a 10 s window costs a fraction of Whisper's padded 30 s input (measured ~0.1 s
    against ~2.5 s on a busy 2-core machine), which is what makes identifying every window far
    cheaper than transcribing the film. Short single spans are ambiguous unpadded (espeak
    English reads as Latin or Finnish), so the refinement (`padded=True`) pads them to 30 s as
    Whisper was trained; it runs only where the first pass was unsure."""

    def __init__(self, whisper_model: Any) -> None:
        self._model = whisper_model

    def __call__(
        self, clips: Sequence[np.ndarray], *, padded: bool = False
    ) -> list[dict[str, float]]:
        from faster_whisper.audio import pad_or_trim

        out: list[dict[str, float]] = []
        frames = int(WHISPER_SECONDS * 100)  # the mel frames of Whisper's input
        for clip in clips:
            features = self._model.feature_extractor(clip[: int(WHISPER_SECONDS * SAMPLE_RATE)])
            features = pad_or_trim(features) if padded else features[:, :frames]
            encoded = self._model.encode(features)
            [result] = self._model.model.detect_language(encoded)
            out.append({str(token)[2:-2]: float(p) for token, p in result})
        return out


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
    window_seconds: float = WINDOW_SECONDS,
    cancelled: Any = None,
) -> PassageSearch:
    """The passages of `audio` (spans: VAD speech in s) in another language than `main_language`
    (a Whisper code, "en"). `identify(clips, padded=...) -> [{code: p}]` is a LanguageId.

    A passage's confidence is how sure the identification is that it is *not* the main language
    (1 - p(main)); its language is the likeliest other one over its spans and the whole, and must
    itself be likely (MIN_LANGUAGE_CONFIDENCE): speech the model cannot place is no passage."""
    windows = [
        g for g in pack_windows(spans, window_seconds=window_seconds)
        if sum(spans[i][1] - spans[i][0] for i in g) >= MIN_ID_SECONDS
    ]  # fmt: skip
    suspect: list[int] = []  # span indexes to look at one by one
    for chunk in _chunks(windows, BATCH):
        if cancelled is not None and cancelled():
            return PassageSearch([], len(windows), 0)
        heard_windows = identify([_join(audio, [spans[i] for i in g]) for g in chunk])
        for group, window_probs in zip(chunk, heard_windows, strict=True):
            if window_probs.get(main_language, 0.0) < SUSPECT_BELOW:
                suspect.extend(group)
    labels: dict[int, str | None] = {}  # span -> top language; None: too short to tell
    heard: dict[int, dict[str, float]] = {}
    long_enough = [i for i in suspect if spans[i][1] - spans[i][0] >= MIN_ID_SECONDS]
    labels.update({i: None for i in suspect if i not in long_enough})
    for chunk_spans in _chunks(long_enough, BATCH):
        if cancelled is not None and cancelled():
            return PassageSearch([], len(windows), len(heard))
        clips = [_join(audio, [spans[i]]) for i in chunk_spans]
        for i, span_probs in zip(chunk_spans, identify(clips, padded=True), strict=True):
            heard[i] = span_probs
            labels[i] = max(span_probs, key=lambda k: span_probs[k])
    runs = [
        run for run in _foreign_runs(labels, main_language)
        if spans[run[-1]][1] - spans[run[0]][0] >= min_seconds
    ]  # fmt: skip
    wholes = (
        identify([_join(audio, [spans[i] for i in run]) for run in runs], padded=True)
        if runs else []
    )  # fmt: skip
    passages: list[Passage] = []
    for run, whole in zip(runs, wholes, strict=True):
        start, end = spans[run[0]][0], spans[run[-1]][1]
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
        sure = probs.get(lang, 0.0)
        code = parse_language(lang)
        verdict = foreign >= min_confidence and sure >= MIN_LANGUAGE_CONFIDENCE and bool(code)
        logger.info("candidate %.1f-%.1f s: %s (%.2f), not %s %.2f: %s", start, end, lang, sure,
                    main_language, foreign, "kept" if verdict else "dropped")  # fmt: skip
        if verdict and code is not None:
            passages.append(Passage(start=start, end=end, language=code, confidence=foreign,
                                    language_confidence=sure))  # fmt: skip
    return PassageSearch(_merged(passages), len(windows), len(heard) + len(runs))


def _merged(passages: Sequence[Passage]) -> list[Passage]:
    """Passages of one language a few seconds apart are one scene: a short span between them that
    read as the main language was most likely misheard (and two cues blocks would be split)."""
    out: list[Passage] = []
    for p in passages:
        last = out[-1] if out else None
        if last and last.language == p.language and p.start - last.end <= MERGE_GAP_SECONDS:
            a, b = last.duration, p.duration
            out[-1] = Passage(
                start=last.start, end=p.end, language=p.language,
                confidence=(last.confidence * a + p.confidence * b) / (a + b),
                language_confidence=(last.language_confidence * a + p.language_confidence * b)
                / (a + b),
            )  # fmt: skip
        else:
            out.append(p)
    return out


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


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
