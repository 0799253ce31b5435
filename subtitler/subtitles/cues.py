"""Readable cues from word timestamps (pure: no I/O, no model).

Norms (subtitle-style.md): <= 42 chars a line (CJK counted in characters, lower limit), <= 2 lines,
0.833-7 s on screen, <= 20 characters a second where the speech allows, >= 2-frame gaps, never
overlapping, breaks at sentence/clause ends, balanced lines, numbers never split. Words are never
dropped to meet a norm: fast speech is shown longer, extending into the following gap first.

Speakers (words carrying a `speaker`, see subtitles/speakers.py): a cue never holds two speakers,
except a two-line dual-speaker cue (one speaker a line, each line led by `dual_speaker_dash`), made
only when both lines fit the norms; every speaker change ends a cue.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

_CLOSERS = "['\"\u201d\u2019)\\]]*$"  # closing quotes/brackets after the punctuation
_SENTENCE_END = re.compile("[.!?\u2026\u3002\uff01\uff1f]" + _CLOSERS)
_CLAUSE_END = re.compile("[,;:\uff0c\u3001\uff1b\uff1a\u2014\u2013-]" + _CLOSERS)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]")
CJK_LANGUAGES = frozenset({"ja", "zh", "ko", "yue", "jpn", "zho", "chi", "kor"})
_BREAK_BEFORE_WORDS = (
    "and but or nor so yet because although though while when where which who that if unless "
    "until since after before than as to of in on at for with from by about into over under "
    "und aber oder weil dass wenn y pero porque que et mais ou parce quand qui"
)
_BREAK_BEFORE = frozenset(_BREAK_BEFORE_WORDS.split())
_NO_BREAK_AFTER_WORDS = "a an the my your his her its our their mr mrs ms dr"
_NO_BREAK_AFTER = frozenset(_NO_BREAK_AFTER_WORDS.split())
_INF = float("inf")


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    word: str  # as Whisper gives it: leading space before a new word, none inside CJK text
    probability: float = 1.0
    speaker: str | None = None  # the diarization's id (SPEAKER_00), None when not diarized


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    speaker: str | None = None  # the speaker of most of its words


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]
    # (): not diarized; (id,): one speaker; (a, b): a dual-speaker cue, one speaker per line
    speakers: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True, kw_only=True)
class CueStyle:
    """Every limit the builder holds cues to. Settings keys are named in from_settings."""

    max_line_chars: int = 42
    max_line_chars_cjk: int = 16
    max_lines: int = 2
    min_duration: float = 0.833
    max_duration: float = 7.0
    max_cps: float = 20.0
    max_cps_cjk: float = 11.0
    min_gap: float = 0.083
    linger: float = 0.3  # shown this long after the last word when the gap allows
    max_lead: float = 0.5  # may appear this much before the first word to reach a minimum
    pause_split: float = 1.2  # a pause this long always ends a cue
    strip_annotations: bool = False
    cjk: bool = False
    dual_speaker_dash: str = "-"  # leads each line of a two-speaker cue ("" never makes one)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], *, language: str | None = None) -> CueStyle:
        style = cls(
            max_line_chars=int(settings.get("max_line_chars", cls.max_line_chars)),
            max_line_chars_cjk=int(settings.get("max_line_chars_cjk", cls.max_line_chars_cjk)),
            max_lines=int(settings.get("max_lines", cls.max_lines)),
            min_duration=float(settings.get("min_cue_duration_ms", 833)) / 1000,
            max_duration=float(settings.get("max_cue_duration_ms", 7000)) / 1000,
            max_cps=float(settings.get("max_cps", cls.max_cps)),
            max_cps_cjk=float(settings.get("max_cps_cjk", cls.max_cps_cjk)),
            min_gap=float(settings.get("min_gap_ms", 83)) / 1000,
            strip_annotations=bool(settings.get("strip_sound_annotations", False)),
            dual_speaker_dash=str(settings.get("dual_speaker_dash", cls.dual_speaker_dash)),
        )
        return style.for_language(language)

    def for_language(self, language: str | None) -> CueStyle:
        """CJK languages count characters against their own, lower limits."""
        return replace(self, cjk=language is not None and language.lower() in CJK_LANGUAGES)

    @property
    def line_chars(self) -> int:
        return self.max_line_chars_cjk if self.cjk else self.max_line_chars

    @property
    def cps(self) -> float:
        return self.max_cps_cjk if self.cjk else self.max_cps


def build_cues(segments: Sequence[Segment], style: CueStyle | None = None) -> list[Cue]:
    """Cues for the words of `segments` (already cleaned, see cleanup.clean_segments)."""
    style = style or CueStyle()
    words = [w for seg in segments for w in (seg.words or _estimate_words(seg)) if w.word.strip()]
    if not style.cjk and words and sum(bool(_CJK.search(w.word)) for w in words) > len(words) / 2:
        style = replace(style, cjk=True)
    if any(w.speaker for w in words):
        return _speaker_cues(words, style)
    groups = _group(words, style)
    return _time(groups, style)


def _speaker_cues(words: list[Word], style: CueStyle) -> list[Cue]:
    """One speaker a cue (each change of speaker ends one), then quick exchanges paired."""
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][-1].speaker == word.speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    groups = [group for run in runs for group in _group(run, style)]
    merged: list[list[Word]] = []
    layout: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    i = 0
    while i < len(groups):
        group = groups[i]
        pair = _dual_lines(group, groups[i + 1], style) if i + 1 < len(groups) else None
        if (  # "-No." / "-Yes." rather than a longer line before "-No."
            pair is not None
            and not _short(group, style)
            and i + 2 < len(groups)
            and _short(groups[i + 2], style)
            and _dual_lines(groups[i + 1], groups[i + 2], style) is not None
        ):
            pair = None
        if pair is not None:
            merged.append(group + groups[i + 1])
            layout.append((pair, (_speaker(group), _speaker(groups[i + 1]))))
            i += 2
            continue
        merged.append(group)
        layout.append((tuple(wrap(group, style) or [text_of(group)]), (_speaker(group),)))
        i += 1
    return _time(merged, style, layout)


def _speaker(group: Sequence[Word]) -> str:
    return group[0].speaker or ""


def _dual_lines(a: list[Word], b: list[Word], style: CueStyle) -> tuple[str, str] | None:
    """The two dashed lines of a dual-speaker cue for groups `a` then `b`, None when the norms
    or the exchange do not call for one: two speakers, one line each, a quick exchange (one of
    them too short to stand alone), together within the longest cue and no long pause."""
    dash = style.dual_speaker_dash
    if not dash or style.max_lines < 2 or a[0].speaker == b[0].speaker:
        return None
    first, second = dash + text_of(a), dash + text_of(b)
    if max(len(first), len(second)) > style.line_chars:
        return None
    if b[0].start - a[-1].end >= min(style.pause_split, 1.0):
        return None
    if b[-1].end - a[0].start > style.max_duration:
        return None
    if not (_short(a, style) or _short(b, style)):
        return None
    return first, second


def _short(group: Sequence[Word], style: CueStyle) -> bool:
    """Too short or too fast to read well as a cue of its own."""
    span = group[-1].end - group[0].start + style.linger
    return span < style.min_duration * 1.5 or len(text_of(group)) / span > style.cps


def _estimate_words(seg: Segment) -> tuple[Word, ...]:
    """Word times spread over a segment by length, for transcripts without word timestamps."""
    text = seg.text.strip()
    if not text:
        return ()
    tokens = list(text) if _CJK.search(text) and " " not in text else text.split()
    sep = "" if len(tokens) == len(text) else " "
    total = sum(len(t) + 1 for t in tokens)
    span, t, out = max(seg.end - seg.start, 0.01), seg.start, []
    for i, token in enumerate(tokens):
        length = span * (len(token) + 1) / total
        out.append(Word(start=t, end=t + length, word=(sep if i else "") + token))
        t += length
    return tuple(out)


def text_of(words: Sequence[Word]) -> str:
    return "".join(w.word for w in words).strip()


def wrap(words: Sequence[Word], style: CueStyle) -> list[str] | None:
    """The best split of `words` into <= max_lines balanced lines, None when they do not fit.

    A single word longer than a line still gets a line of its own (words are never dropped).
    """
    n, limit = len(words), style.line_chars
    if n == 0:
        return []
    full = "".join(w.word for w in words)
    if len(full.strip()) <= limit:
        return [full.strip()]
    pos = [0]
    for w in words:
        pos.append(pos[-1] + len(w.word))
    # best[k][i]: (cost, breaks) of words[:i] set in k lines
    best: list[dict[int, tuple[float, tuple[int, ...]]]] = [{0: (0.0, ())}]
    for k in range(1, style.max_lines + 1):
        row: dict[int, tuple[float, tuple[int, ...]]] = {}
        for j, (cost, breaks) in best[k - 1].items():
            for i in range(j + 1, n + 1):
                length = len(full[pos[j] : pos[i]].strip())
                if length > limit and i - j > 1:
                    break
                penalty = _break_cost(words[i - 1], words[i]) if i < n else 0.0
                total = cost + penalty + _shape_cost(length, limit, first=k == 1)
                if total < row.get(i, (_INF,))[0]:
                    row[i] = (total, (*breaks, i))
        best.append(row)
        if n in row:
            cuts = (0, *row[n][1])
            return [full[pos[a] : pos[b]].strip() for a, b in itertools.pairwise(cuts)]
    return None


def _shape_cost(length: int, limit: int, *, first: bool) -> float:
    # Balanced lines: empty space squared; a top line longer than the bottom costs a little more.
    slack = max(0, limit - length) / limit
    return 20 * slack * slack + (0.0 if first else 2.0 * slack)


def _break_cost(before: Word, after: Word) -> float:
    """Cost of a line or cue break between two words (lower is better, inf is forbidden)."""
    a, b = before.word.strip(), after.word.strip()
    if not a or not b:
        return 6.0
    if (a[-1].isdigit() and (b[0].isdigit() or b[0] in "%.,:/-")) or (
        b[0].isdigit() and a[-1] in "$€£¥#"
    ):
        return _INF  # never split a number
    if _SENTENCE_END.search(a):
        return 0.0
    if _CLAUSE_END.search(a):
        return 1.0
    if a.lower() in _NO_BREAK_AFTER:
        return 14.0
    if b.lower().strip(",.") in _BREAK_BEFORE:
        return 5.0
    if a[0].isupper() and b[0].isupper() and a.isalpha() and a != "I":
        return 10.0  # probably a name
    return 6.0


def _group(words: list[Word], style: CueStyle) -> list[list[Word]]:
    groups: list[list[Word]] = []
    current: list[Word] = []
    capacity = style.line_chars * style.max_lines
    for word in words:
        if current:
            gap = word.start - current[-1].end
            size = len(text_of(current))
            if gap >= style.pause_split or (
                _SENTENCE_END.search(current[-1].word.strip())
                and _break_cost(current[-1], word) < _INF
                and (size >= capacity * 0.35 or gap >= 0.4)
            ):
                groups.append(current)
                current = []
        current.append(word)
        while len(current) > 1 and not _fits(current, style):
            cut = _best_cut(current, style, capacity)
            groups.append(current[:cut])
            current = current[cut:]
    if current:
        groups.append(current)
    return groups


def _fits(words: list[Word], style: CueStyle) -> bool:
    if words[-1].end - words[0].start > style.max_duration and len(words) > 1:
        return False
    lines = wrap(words, style)
    return lines is not None and all(len(line) <= style.line_chars for line in lines)


def _best_cut(words: list[Word], style: CueStyle, capacity: int) -> int:
    """Where to end the cue that `words[:-1]` formed before `words[-1]` overflowed it."""
    best, best_cost = len(words) - 1, _INF
    for cut in range(1, len(words)):
        head = words[:cut]  # a prefix of a cue that fitted: fits too
        fill = min(1.0, len(text_of(head)) / capacity)
        cost = _break_cost(words[cut - 1], words[cut]) + 6 * (1 - fill)
        if cost <= best_cost:
            best, best_cost = cut, cost
    if best_cost == _INF:  # only number-internal cuts fit: break at the last one anyway
        return len(words) - 1
    return best


def _time(
    groups: list[list[Word]],
    style: CueStyle,
    layout: Sequence[tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
) -> list[Cue]:
    """Times in whole milliseconds: gaps, minimum duration, reading speed, no overlaps.
    `layout`: each group's lines and speakers when already laid out (speaker cues)."""
    gap, lead = round(style.min_gap * 1000), round(style.max_lead * 1000)
    min_ms, max_ms = round(style.min_duration * 1000), round(style.max_duration * 1000)
    starts = [round(g[0].start * 1000) for g in groups]
    speech_ends = [max(round(g[-1].end * 1000), s + 1) for g, s in zip(groups, starts, strict=True)]
    cues: list[Cue] = []
    prev_end = -gap
    for i, group in enumerate(groups):
        speakers: tuple[str, ...] = ()
        if layout is not None:
            lines, speakers = layout[i]
        else:
            lines = tuple(wrap(group, style) or [text_of(group)])
        chars = sum(len(line) for line in lines)
        start = max(starts[i], prev_end + gap)
        next_start = starts[i + 1] if i + 1 < len(groups) else 10**12
        want = max(
            speech_ends[i] + round(style.linger * 1000),
            starts[i] + min_ms,
            starts[i] + round(chars * 1000 / style.cps),
        )
        want = max(min(want, starts[i] + max_ms), speech_ends[i])
        end = min(want, next_start - gap)  # extend into the following gap first
        shortfall = (want - starts[i]) - (end - start)
        if shortfall > 0 and start == starts[i]:  # then start earlier, into the previous gap
            start = max(prev_end + gap, starts[i] - min(lead, shortfall), 0)
        if end - start < 100:  # words overlap the next cue's: keep a visible cue, push the next
            end = start + 100
            if i + 1 < len(groups):
                starts[i + 1] = max(starts[i + 1], end + gap)
        end = min(end, start + max_ms)
        cues.append(Cue(start=start / 1000, end=end / 1000, lines=lines, speakers=speakers))
        prev_end = end
    return cues


def cues_document(
    cues: Sequence[Cue], segments: Sequence[Segment], *, language: str | None,
    duration: float | None,
) -> dict[str, Any]:  # fmt: skip
    """Plain data (it crosses the worker pipe and goes into a JSON column)."""
    return {
        "language": language,
        "duration": duration,
        "cues": [
            {"start": c.start, "end": c.end, "lines": list(c.lines)}
            | ({"speakers": list(c.speakers)} if c.speakers else {})
            for c in cues
        ],
        "segments": [
            {
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "words": [
                    [w.start, w.end, w.word, w.probability, *([w.speaker] if w.speaker else [])]
                    for w in s.words
                ],
            }
            | ({"speaker": s.speaker} if s.speaker else {})
            for s in segments
        ],
    }
