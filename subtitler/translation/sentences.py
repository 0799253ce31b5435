"""Sentence-level translation: cues of one sentence are translated together, then handed back.

1. `sentences`: consecutive cues join while the sentence runs on (the cue before does not end in
   . ! ? …, the pause between them is under the cue builder's `pause_split`, same position prefix
   and italics, no dialogue cue). A dialogue cue (every line a dash) stays alone, a line a unit.
2. The provider gets whole sentences (and the sentences before them as context, see engine.py).
3. `hand_back`: a joined sentence's translation is cut into one piece per source cue, in
   proportion to the source cues' lengths, at the best word boundary near each proportional point
   (sentence and clause ends first, never inside a number). A piece that would be shorter than the
   minimum duration or faster than the reading speed, with the gaps it may borrow, merges with a
   neighbour (the shorter one) and takes both cues' time; pieces are never split further here.
4. No capital letter mid-sentence: a piece of a source that began in lower case is not given a
   capital by the provider, nor a full stop the source did not have.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from subtitler.subtitles.cues import CueStyle, Word, _break_cost
from subtitler.translation.markup import SourceCue, Unit, strip_tags
from subtitler.translation.reflow import TranslatedCue

_SENTENCE_END = re.compile(r"[.!?…。！？]['\"”’)\]]*$")
_MAX_CUES = 8  # a run-on "sentence" longer than this is cut anyway
_MAX_CHARS = 500


@dataclass(frozen=True, slots=True)
class Sentence:
    cues: tuple[SourceCue, ...]
    units: tuple[Unit, ...]  # what the provider translates

    @property
    def joined(self) -> bool:
        return len(self.cues) > 1


def _plain(cue: SourceCue) -> str:
    return " ".join(strip_tags(line).strip() for line in cue.lines).strip()


def _continues(group: list[SourceCue], cue: SourceCue, style: CueStyle) -> bool:
    prev = group[-1]
    if prev.dialogue or cue.dialogue or prev.prefix != cue.prefix:
        return False
    if cue.start - prev.end >= style.pause_split or _SENTENCE_END.search(_plain(prev)):
        return False
    if prev.units()[0].italic != cue.units()[0].italic:
        return False
    chars = sum(len(_plain(c)) for c in group) + len(_plain(cue))
    return len(group) < _MAX_CUES and chars <= _MAX_CHARS


def sentences(cues: Sequence[SourceCue], style: CueStyle) -> list[Sentence]:
    ordered = sorted(cues, key=lambda c: (c.start, c.end))
    groups: list[list[SourceCue]] = []
    for cue in ordered:
        if not any(u.text.strip() for u in cue.units()):
            continue
        if groups and _continues(groups[-1], cue, style):
            groups[-1].append(cue)
        else:
            groups.append([cue])
    out = []
    for group in groups:
        if len(group) == 1:
            out.append(Sentence(cues=(group[0],), units=tuple(group[0].units())))
            continue
        units = [c.units()[0] for c in group]
        text = " ".join(u.text for u in units)
        out.append(Sentence(cues=tuple(group), units=(Unit(text=text, italic=units[0].italic),)))
    return out


def continue_case(source: str, translated: str) -> str:
    """No capital where the source ran on in lower case; no full stop it did not have."""
    src = strip_tags(source).lstrip(" -\"'«“‘(")
    out = translated
    lead = re.match(r"^(\s*(?:-\s*)?(?:</?[ibu]>|[\"'«“‘(¿¡])*)", out)
    at = lead.end() if lead else 0
    first = out[at:].split(" ", 1)[0]
    if src[:1].islower() and first[:1].isupper() and not (len(first) > 1 and first.isupper()):
        out = out[:at] + out[at].lower() + out[at + 1 :]
    src_end, plain_out = strip_tags(source).rstrip(), strip_tags(out).rstrip()
    if (
        src_end
        and not re.search(r"[.!?…:;,]['\"”’)\]]*$", src_end)
        and plain_out.endswith(".")
        and not plain_out.endswith("..")
    ):
        cut = out.rstrip().rfind(".")
        out = out[:cut] + out[cut + 1 :]
    return out


def split_proportional(text: str, weights: Sequence[float]) -> list[str]:
    """`text` cut at word boundaries into len(weights) pieces (some may be empty)."""
    words = text.split(" ")
    words = [w for w in words if w]
    n = len(weights)
    if n <= 1 or len(words) <= 1:
        return [" ".join(words)] + [""] * (n - 1)
    ends, pos = [], 0
    for w in words:
        pos += len(w) + 1
        ends.append(pos - 1)  # character offset after word i
    total_chars = ends[-1]
    total_weight = sum(weights) or 1.0
    cuts: list[int] = []  # cut k: after word index cuts[k]
    cumulative, last = 0.0, -1
    expected = [total_chars * w / total_weight for w in weights]
    scale = [min(a, b) for a, b in itertools.pairwise(expected)]
    for k in range(n - 1):
        cumulative += weights[k]
        target = total_chars * cumulative / total_weight
        best, best_cost = None, math.inf
        # leave at least one word for each remaining piece where the words allow it
        for i in range(last + 1, len(words) - n + k + 1):
            cost = _break_cost(Word(0, 0, words[i]), Word(0, 0, " " + words[i + 1]))
            # how far from the proportional point, against the shorter piece's expected length
            cost += 10 * abs(ends[i] - target) / max(4.0, scale[k])
            if cost < best_cost:
                best, best_cost = i, cost
        if best is None:
            cuts.append(last)
            continue
        cuts.append(best)
        last = best
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(" ".join(words[start : cut + 1]))
        start = cut + 1
    pieces.append(" ".join(words[start:]))
    return _balance_tags(pieces)


def _balance_tags(pieces: list[str]) -> list[str]:
    out: list[str] = []
    carried = ""
    for piece in pieces:
        if not piece:
            out.append(piece)
            continue
        text = carried + piece
        opened = [t for t in "ibu" if text.count(f"<{t}>") > text.count(f"</{t}>")]
        carried = "".join(f"<{t}>" for t in opened)
        out.append(text + "".join(f"</{t}>" for t in reversed(opened)))
    return out


@dataclass
class _Piece:
    text: str
    start: float
    end: float


def _cues_needed(chars: int, style: CueStyle) -> int:
    return max(1, math.ceil(chars / (style.line_chars * style.max_lines * 0.85)))


def _too_tight(pieces: list[_Piece], i: int, style: CueStyle, before: float, after: float) -> bool:
    piece = pieces[i]
    chars = len(strip_tags(piece.text))
    if not chars:
        return True
    prev_end = pieces[i - 1].end if i else before
    next_start = pieces[i + 1].start if i + 1 < len(pieces) else after
    start = max(prev_end + style.min_gap, piece.start - style.max_lead)
    end = max(piece.end, next_start - style.min_gap)
    available = min(end - start, style.max_duration * _cues_needed(chars, style))
    need = max(style.min_duration * _cues_needed(chars, style), chars / style.cps)
    return available + 1e-6 < need


def hand_back(
    sentence: Sentence, translated: str, style: CueStyle, *, before: float, after: float
) -> list[TranslatedCue]:
    """A joined sentence's translation as cues on its source cues' time (see the module doc).
    `before`/`after`: the end of the cue before the sentence and the start of the one after."""
    weights = [max(1, len(_plain(c))) for c in sentence.cues]
    texts = split_proportional(translated, weights)
    pieces = [_Piece(t, c.start, c.end) for t, c in zip(texts, sentence.cues, strict=True)]
    while len(pieces) > 1:
        bad = next((i for i in range(len(pieces)) if _too_tight(pieces, i, style, before, after)),
                   None)  # fmt: skip
        if bad is None:
            break
        if bad == 0:
            other = 1
        elif bad == len(pieces) - 1:
            other = bad - 1
        else:  # the shorter neighbour, the next one on a tie
            prev_len, next_len = len(pieces[bad - 1].text), len(pieces[bad + 1].text)
            other = bad - 1 if prev_len < next_len else bad + 1
        a, b = sorted((bad, other))
        merged = _Piece(
            " ".join(t for t in (pieces[a].text, pieces[b].text) if t),
            pieces[a].start,
            max(pieces[a].end, pieces[b].end),
        )
        pieces[a : b + 1] = [merged]
    italic = sentence.units[0].italic
    prefix = sentence.cues[0].prefix
    return [
        TranslatedCue(
            source=SourceCue(start=p.start, end=p.end, lines=(p.text,), prefix=prefix),
            units=(Unit(text=p.text, italic=italic),),
        )
        for p in pieces
        if p.text.strip()
    ]
