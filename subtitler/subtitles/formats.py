"""Render cues as subtitle files: srt, vtt and ass through pysubs2; lrc, txt and json here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pysubs2

from subtitler.errors import BadRequest
from subtitler.subtitles.cues import Cue, Segment

FORMATS: tuple[str, ...] = ("srt", "vtt", "ass", "lrc", "txt", "json")
PYSUBS2_FORMATS = {"srt": "srt", "vtt": "vtt", "ass": "ass"}


def render(
    cues: Sequence[Cue],
    *,
    fmt: str = "srt",
    segments: Sequence[Segment] = (),
    language: str | None = None,
    duration: float | None = None,
) -> str:
    """The file text of `cues` in `fmt`; json carries `segments` with their words instead."""
    fmt = fmt.lower()
    if fmt in PYSUBS2_FORMATS:
        return _pysubs2(cues, PYSUBS2_FORMATS[fmt])
    if fmt == "lrc":
        return _lrc(cues)
    if fmt == "txt":
        return "".join(" ".join(cue.lines) + "\n" for cue in cues)
    if fmt == "json":
        return _json(cues, segments, language=language, duration=duration)
    raise BadRequest(
        f"unknown subtitle format {fmt!r}; one of {', '.join(FORMATS)}", code="bad_format"
    )


def _pysubs2(cues: Sequence[Cue], format_: str) -> str:
    # ASS keeps centiseconds: start rounds up and end down, so gaps never shrink below the norm.
    step = 10 if format_ == "ass" else 1
    subs = pysubs2.SSAFile()
    for cue in cues:
        start = -(-round(cue.start * 1000) // step) * step
        end = round(cue.end * 1000) // step * step
        subs.append(pysubs2.SSAEvent(start=start, end=end, text=r"\N".join(cue.lines)))
    return subs.to_string(format_)


def _lrc_stamp(seconds: float) -> str:
    centis = round(seconds * 100)
    return f"[{centis // 6000:02d}:{centis // 100 % 60:02d}.{centis % 100:02d}]"


def _lrc(cues: Sequence[Cue]) -> str:
    """Lyrics lines; an empty stamped line clears the text where a pause follows a cue."""
    out: list[str] = []
    for i, cue in enumerate(cues):
        out.append(_lrc_stamp(cue.start) + " ".join(cue.lines))
        following = cues[i + 1].start if i + 1 < len(cues) else None
        if following is None or following - cue.end > 0.5:
            out.append(_lrc_stamp(cue.end))
    return "\n".join(out) + ("\n" if out else "")


def _json(
    cues: Sequence[Cue],
    segments: Sequence[Segment],
    *,
    language: str | None,
    duration: float | None,
) -> str:
    doc: dict[str, Any] = {
        "language": language,
        "duration": duration,
        "segments": [
            {
                "start": round(seg.start, 3),
                "end": round(seg.end, 3),
                "text": seg.text.strip(),
                "words": [
                    {
                        "start": round(w.start, 3),
                        "end": round(w.end, 3),
                        "word": w.word.strip(),
                        "probability": round(w.probability, 4),
                    }
                    for w in seg.words
                ],
            }
            for seg in segments
        ],
        "cues": [
            {"start": round(c.start, 3), "end": round(c.end, 3), "lines": list(c.lines)}
            for c in cues
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
