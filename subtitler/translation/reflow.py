"""Translated cues re-flowed to the readability norms (subtitle-style.md) with the source timing.

Each cue's translation is wrapped with the cue builder's line breaker (<= 42 characters a line,
<= 2 lines, balanced, breaks at punctuation); a translation too long for one cue is split at the
cue builder's break points into several cues that share the cue's time. A cue shorter than its
reading time (characters / max CPS, and the minimum duration) borrows from the gap after it, then
the gap before it; cues never overlap and keep the minimum gap. Pieces of one cue get at least the
minimum duration each where the cue's time allows. Last, `pace`: a run of cues where one is still
too short or too fast shares the run's time again by reading time (sentences.py hands whole
sentences' translations to this module).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from subtitler.subtitles.cues import Cue, CueStyle, Segment, Word, _estimate_words, _group, wrap
from subtitler.translation.markup import SourceCue, Unit, strip_tags

_POSITION = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True, slots=True)
class TranslatedCue:
    source: SourceCue
    units: tuple[Unit, ...]  # translated, same order as source.units()


def reflow(cues: Sequence[TranslatedCue], style: CueStyle) -> list[Cue]:
    """Readable cues in time order (lines carry inline tags; the ASS prefix leads line one)."""
    ordered = sorted(cues, key=lambda c: (c.source.start, c.source.end))
    gap, lead = style.min_gap, style.max_lead
    out: list[Cue] = []
    prev_end = -gap
    for i, cue in enumerate(ordered):
        pieces = _pieces(cue, style)
        if not pieces:
            continue
        start, end = cue.source.start, max(cue.source.end, cue.source.start + 0.1)
        next_start = ordered[i + 1].source.start if i + 1 < len(ordered) else float("inf")
        chars = sum(len(strip_tags(line)) for piece in pieces for line in piece)
        need = max(style.min_duration * len(pieces), chars / style.cps)
        need = min(need, style.max_duration * len(pieces))
        start = max(start, prev_end + gap)
        if end - start < need:  # borrow from the gap after, then the gap before
            end = max(end, min(start + need, next_start - gap))
        if end - start < need:
            start = max(prev_end + gap, start - min(lead, need - (end - start)), 0.0)
        end = max(end, start + 0.1 * len(pieces))  # overlapping source cues: stay visible
        out.extend(_spread(pieces, start, end, cue.source.prefix, style))
        prev_end = out[-1].end
    return pace(out, style)


def _need(cue: Cue, style: CueStyle) -> float:
    chars = sum(len(strip_tags(_POSITION.sub("", line))) for line in cue.lines)
    return min(max(style.min_duration, chars / style.cps), style.max_duration)


def pace(cues: list[Cue], style: CueStyle) -> list[Cue]:
    """Translations run longer than the speech: within a run of cues (pauses under
    `pause_split`) where one cue is too short or too fast, the run's time is shared again so
    each cue gets its reading time, taking it from the cues (and pauses) that have time to spare,
    then from the gap after the run and, by `max_lead`, the one before. Cue order, text and the
    minimum gap are kept; where the speech is too fast for all, every cue of the run is equally
    fast (never a flash)."""
    out = list(cues)
    gap = style.min_gap
    i = 0
    while i < len(out):
        j = i
        while j + 1 < len(out) and out[j + 1].start - out[j].end < style.pause_split:
            j += 1
        run = out[i : j + 1]
        needs = [_need(c, style) for c in run]
        if all(c.end - c.start + 1e-6 >= n for c, n in zip(run, needs, strict=True)):
            i = j + 1
            continue
        prev_end = out[i - 1].end if i else -gap
        next_start = out[j + 1].start if j + 1 < len(out) else float("inf")
        start, end = run[0].start, run[-1].end
        total = sum(needs) + gap * (len(run) - 1)
        if end - start < total:
            end = min(next_start - gap, start + total, end + style.pause_split)
        if end - start < total:
            start = max(prev_end + gap, 0.0, start - min(style.max_lead, total - (end - start)))
        span = end - start - gap * (len(run) - 1)
        if span >= sum(needs):
            owns = [
                (run[k + 1].start - gap if k + 1 < len(run) else end) - run[k].start
                for k in range(len(run))
            ]
            spare = [max(0.0, o - n) for o, n in zip(owns, needs, strict=True)]
            extra = span - sum(needs)
            weight = sum(spare) or float(len(run))
            durations = [
                n + extra * ((s if sum(spare) else 1.0) / weight)
                for n, s in zip(needs, spare, strict=True)
            ]
        else:
            durations = [span * n / sum(needs) for n in needs]
        t = start
        for k, (cue, duration) in enumerate(zip(run, durations, strict=True)):
            shown = min(duration, style.max_duration)
            out[i + k] = Cue(start=round(t, 3), end=round(t + shown, 3), lines=cue.lines)
            t += duration + gap
        i = j + 1
    return out


def _pieces(cue: TranslatedCue, style: CueStyle) -> list[list[str]]:
    """The lines of each cue this translation becomes (usually one cue)."""
    units = [u for u in cue.units if u.text.strip()]
    if not units:
        return []
    if cue.source.dialogue and len(units) <= style.max_lines:
        lines = ["- " + _italic(u.text) if u.italic else "- " + u.text for u in units]
        if all(len(strip_tags(line)) <= style.line_chars for line in lines):
            return [lines]
        units = [Unit(text="- " + u.text, italic=u.italic) for u in units]
    italic = all(u.italic for u in units)
    text = " ".join(u.text if italic or not u.italic else _italic(u.text) for u in units)
    words = _estimate_words(Segment(start=0.0, end=max(len(text), 1) / 100, text=text))
    groups = _group(list(words), style) if words else []
    pieces = []
    for group in groups:
        lines = wrap(group, style) or ["".join(w.word for w in group).strip()]
        pieces.append([_italic(line) if italic else line for line in _balance(lines)])
    return pieces


def _italic(text: str) -> str:
    return f"<i>{text}</i>"


def _balance(lines: list[str]) -> list[str]:
    """Inline tags split across a line break are closed and reopened on each line."""
    out, carried = [], ""
    for line in lines:
        text = carried + line
        opened = [t for t in "ibu" if text.count(f"<{t}>") > text.count(f"</{t}>")]
        carried = "".join(f"<{t}>" for t in opened)
        out.append(text + "".join(f"</{t}>" for t in reversed(opened)))
    return out


def _spread(
    pieces: list[list[str]], start: float, end: float, prefix: str, style: CueStyle
) -> list[Cue]:
    """Share [start, end] between the pieces by their length, a minimum gap between them; a
    short piece is raised to the minimum duration from the longer ones' share where the span
    allows (so an over-long translation split in its own cue leaves no flash)."""
    weights = [max(1, sum(len(strip_tags(x)) for x in piece)) for piece in pieces]
    gaps = style.min_gap * (len(pieces) - 1)
    span = max(end - start - gaps, 0.1 * len(pieces))
    shares = _shares(weights, span, style.min_duration)
    cues, t = [], start
    for piece, share in zip(pieces, shares, strict=True):
        piece_end = t + min(share, style.max_duration)
        lines = tuple([prefix + piece[0], *piece[1:]]) if prefix else tuple(piece)
        cues.append(Cue(start=round(t, 3), end=round(piece_end, 3), lines=lines))
        t = t + share + style.min_gap
    return cues


def _shares(weights: list[int], span: float, minimum: float) -> list[float]:
    """`span` shared by weight, every share at least `minimum` when the span holds them all."""
    total = sum(weights)
    shares = [span * w / total for w in weights]
    if span + 1e-9 < minimum * len(shares):
        return shares
    for _ in range(len(shares)):
        short = [i for i, s in enumerate(shares) if s < minimum - 1e-9]
        if not short:
            break
        deficit = sum(minimum - shares[i] for i in short)
        for i in short:
            shares[i] = minimum
        rich = [i for i, s in enumerate(shares) if s > minimum + 1e-9]
        spare = sum(shares[i] - minimum for i in rich)
        for i in rich:
            shares[i] -= deficit * (shares[i] - minimum) / spare
    return shares


def words_of(text: str) -> list[Word]:
    """Estimated words of a text (exposed for tests)."""
    return list(_estimate_words(Segment(start=0.0, end=1.0, text=text)))
