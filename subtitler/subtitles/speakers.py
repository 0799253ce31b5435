"""Who speaks each word (pure: no I/O, no model): diarization turns onto transcript words.

A word gets the speaker whose turns overlap it most; a word no turn overlaps (diarization and
Whisper disagree on where speech is) gets the nearest turn's speaker within `max_distance`
seconds (the previous word's speaker when its turn is nearly as near: a sentence's last word
trails its speaker's turn), else the speaker of the word before it. A segment's speaker is the
one speaking most of its words' time. Ids are the diarization's (`SPEAKER_00`); people read
`Speaker 1`.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from subtitler.subtitles.cues import Segment, Word


@dataclass(frozen=True, slots=True)
class Turn:
    start: float
    end: float
    speaker: str


def assign_speakers(
    segments: Sequence[Segment], turns: Iterable[Turn], *, max_distance: float = 1.0
) -> list[Segment]:
    """`segments` with `speaker` set on every word and segment (unchanged when no turns)."""
    ordered = sorted((t for t in turns if t.end > t.start), key=lambda t: t.start)
    if not ordered:
        return list(segments)
    starts = [t.start for t in ordered]
    longest = max(t.end - t.start for t in ordered)
    out: list[Segment] = []
    previous: str | None = None
    for seg in segments:
        words: list[Word] = []
        for word in seg.words:
            speaker = _speaker_of(
                word.start, word.end, ordered, starts, longest, max_distance, previous
            )
            speaker = speaker or previous
            previous = speaker or previous
            words.append(replace(word, speaker=speaker))
        if not words:  # no word times: the segment as one word
            speaker = _speaker_of(seg.start, seg.end, ordered, starts, longest, max_distance)
            previous = speaker or previous
            out.append(replace(seg, speaker=speaker or previous))
            continue
        out.append(replace(seg, words=tuple(words), speaker=_most(words)))
    return out


def _speaker_of(
    start: float,
    end: float,
    turns: Sequence[Turn],
    starts: Sequence[float],
    longest: float,
    max_distance: float,
    previous: str | None = None,
) -> str | None:
    end = max(end, start + 1e-3)
    overlap: dict[str, float] = defaultdict(float)
    hi = bisect.bisect_left(starts, end)  # turns starting before the word ends
    lo = bisect.bisect_left(starts, start - longest)  # no earlier turn can reach the word
    for turn in turns[lo:hi]:
        shared = min(end, turn.end) - max(start, turn.start)
        if shared > 0:
            overlap[turn.speaker] += shared
    if overlap:
        return max(overlap.items(), key=lambda item: (item[1], -_order(item[0])))[0]
    distances: dict[str, float] = {}
    for turn in turns[max(0, lo - 1) : min(len(turns), hi + 1)]:
        distance = max(turn.start - end, start - turn.end, 0.0)
        if distance <= max_distance and distance < distances.get(turn.speaker, _FAR):
            distances[turn.speaker] = distance
    if not distances:
        return None
    best = min(distances, key=distances.__getitem__)
    if previous in distances and distances[previous] <= distances[best] + _TRAIL:
        return previous
    return best


def _most(words: Sequence[Word]) -> str | None:
    time: dict[str, float] = defaultdict(float)
    for w in words:
        if w.speaker:
            time[w.speaker] += max(w.end - w.start, 1e-3)
    return max(time.items(), key=lambda item: item[1])[0] if time else None


_FAR = float("inf")
_TRAIL = 0.2  # seconds: how much nearer another turn must be to take a gap word from its speaker
_NUMBERED = re.compile(r"(\d+)$")


def _order(speaker: str) -> int:
    match = _NUMBERED.search(speaker)
    return int(match.group(1)) if match else 10**6


def speaker_runs(segments: Sequence[Segment]) -> list[tuple[str, float, float, str]]:
    """(speaker, start, end, text) for each stretch of one speaker's words: Whisper's segments
    split where the speaker changes (a segment without words is one stretch)."""
    runs: list[tuple[str, float, float, list[str]]] = []
    for seg in segments:
        if not seg.words:
            runs.append((seg.speaker or "", seg.start, seg.end, [seg.text.strip()]))
            continue
        first = True
        for w in seg.words:
            speaker = w.speaker or seg.speaker or ""
            if first or runs[-1][0] != speaker:
                runs.append((speaker, w.start, w.end, [w.word]))
            else:
                runs[-1] = (speaker, runs[-1][1], w.end, [*runs[-1][3], w.word])
            first = False
    return [(s, a, b, "".join(t).strip()) for s, a, b, t in runs if "".join(t).strip()]


def speaker_names(speakers: Iterable[str]) -> dict[str, str]:
    """`Speaker 1`, `Speaker 2`... for ids: SPEAKER_00 is Speaker 1, other ids by first sight."""
    names: dict[str, str] = {}
    seen = list(dict.fromkeys(s for s in speakers if s))
    numbered = all(_NUMBERED.search(s) for s in seen) and len({_order(s) for s in seen}) == len(
        seen
    )
    for i, speaker in enumerate(seen):
        names[speaker] = f"Speaker {_order(speaker) + 1 if numbered else i + 1}"
    return names


def summary(turns: Sequence[Turn], *, elapsed: float | None = None) -> dict[str, Any]:
    """The job's `diarization` record: speaker count, each speaker's talk time, the turns."""
    talk: dict[str, float] = defaultdict(float)
    for t in turns:
        talk[t.speaker] += t.end - t.start
    ordered = sorted(talk, key=_order)
    doc: dict[str, Any] = {
        "speakers": len(ordered),
        "talk_time": {s: round(talk[s], 2) for s in ordered},
        "turns": len(turns),
    }
    if elapsed is not None:
        doc["elapsed_seconds"] = round(elapsed, 2)
    return doc


def turns_from(data: Iterable[Mapping[str, Any] | Sequence[Any]]) -> list[Turn]:
    """Turns from plain data: {start, end, speaker} mappings or [start, end, speaker] rows."""
    out: list[Turn] = []
    for item in data:
        if isinstance(item, Mapping):
            out.append(Turn(float(item["start"]), float(item["end"]), str(item["speaker"])))
        else:
            out.append(Turn(float(item[0]), float(item[1]), str(item[2])))
    return out
