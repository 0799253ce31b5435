"""Hallucination filter and sound-annotation stripping for Whisper segments (pure).

Whisper invents text over music and silence: loops of one line, and boilerplate it learned from
subtitled video ("Thanks for watching", "Subtitles by ..."). Such text is dropped when the model
itself doubted there was speech or when the VAD heard none there; real speech is kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import replace

from subtitler.subtitles.cues import Segment, Word

logger = logging.getLogger(__name__)

_BOILERPLATE = re.compile(
    r"thanks? (you )?for watching|please (like and )?subscribe|subtitles? (by|made by|created by)"
    r"|subtitled by|transcri(bed|ption) by|captions? by|translated by|amara\.org"
    r"|untertitel (im auftrag|von|der)|sous-titr|subt[ií]tulos (realizados|por)"
    r"|ご視聴ありがとうございました|字幕",
    re.IGNORECASE,
)
_OPEN, _CLOSE = "[(", "])"
_NOTES = "\u266a\u266b\u266c"  # ♪ ♫ ♬


def is_boilerplate(text: str) -> bool:
    return bool(_BOILERPLATE.search(text))


def speech_overlap(start: float, end: float, speech: Sequence[tuple[float, float]]) -> float:
    """Fraction of [start, end] that the VAD's speech spans cover (0.2 s slack each side)."""
    span = max(end - start, 1e-3)
    covered = sum(
        max(0.0, min(end, e + 0.2) - max(start, s - 0.2)) for s, e in speech if s - 0.2 < end
    )
    return min(1.0, covered / span)


def clean_segments(
    segments: Sequence[Segment],
    *,
    speech: Sequence[tuple[float, float]] | None = None,
    no_speech_threshold: float = 0.6,
    loop_min: int = 3,
    strip_annotations: bool = False,
) -> list[Segment]:
    """Segments without loops, unheard boilerplate, text outside speech, and (opt.) annotations.

    `speech` holds the VAD's speech spans in seconds; None skips the checks that need it.
    """
    kept: list[Segment] = []
    for seg in segments:
        if strip_annotations:
            seg = _strip(seg)
        seg = _collapse_word_loops(seg, loop_min + 1)
        text = seg.text.strip()
        if not text:
            continue
        heard = 1.0 if speech is None else speech_overlap(seg.start, seg.end, speech)
        if speech is not None and heard == 0.0:
            logger.info("dropped text outside detected speech: %r", text[:60])
            continue
        if is_boilerplate(text) and (seg.no_speech_prob >= no_speech_threshold or heard < 0.5):
            logger.info("dropped boilerplate hallucination: %r", text[:60])
            continue
        kept.append(seg)
    return _drop_loops(kept, loop_min)


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def _drop_loops(segments: list[Segment], loop_min: int) -> list[Segment]:
    """Keep the first of `loop_min` or more consecutive segments with the same text."""
    out: list[Segment] = []
    i = 0
    while i < len(segments):
        j = i + 1
        key = _norm(segments[i].text)
        while j < len(segments) and _norm(segments[j].text) == key:
            j += 1
        if j - i >= loop_min:
            logger.info("dropped a loop of %d repeats: %r", j - i - 1, segments[i].text[:60])
            out.append(segments[i])
        else:
            out.extend(segments[i:j])
        i = j
    return out


def _collapse_word_loops(seg: Segment, repeats: int, longest: int = 12) -> Segment:
    """Keep one copy of a phrase of 2+ words that a segment repeats `repeats`+ times in a row."""
    words = list(seg.words)
    keys = [_norm(w.word) for w in words]
    changed, i = False, 0
    while i < len(words):
        for n in range(2, longest + 1):
            phrase, count = keys[i : i + n], 1
            if len(phrase) < n:
                break
            while keys[i + count * n : i + (count + 1) * n] == phrase:
                count += 1
            if count >= repeats:
                logger.info(
                    "dropped %d repeats of %r", count - 1, "".join(w.word for w in words[i : i + n])
                )
                del words[i + n : i + count * n], keys[i + n : i + count * n]
                changed = True
                break
        i += 1
    if not changed:
        return seg
    return replace(seg, words=tuple(words), text="".join(w.word for w in words))


def _strip(seg: Segment) -> Segment:
    """Remove [Music], (laughs), ♪ lyrics ♪ from the words (and text) of one segment."""
    depth, in_song = 0, False
    words: list[Word] = []
    for word in seg.words:
        kept_chars = []
        for ch in word.word:
            if ch in _NOTES:
                in_song = not in_song
            elif ch in _OPEN:
                depth += 1
            elif ch in _CLOSE and depth:
                depth -= 1
            elif not depth and not in_song:
                kept_chars.append(ch)
        text = "".join(kept_chars).strip()
        if text:
            lead = " " if word.word.startswith(" ") else ""
            words.append(replace(word, word=lead + text))
    if seg.words:
        joined = "".join(w.word for w in words).strip()
    else:
        joined = re.sub(
            r"\[[^\]]*\]|\([^)]*\)|[\u266a\u266b\u266c][^\u266a\u266b\u266c]*"
            r"[\u266a\u266b\u266c]?",
            "",
            seg.text,
        )
    return replace(seg, words=tuple(words), text=re.sub(r"\s+", " ", joined).strip())
