"""Render cues as subtitle files: srt, vtt and ass through pysubs2; lrc, txt and json here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pysubs2

from subtitler.errors import BadRequest
from subtitler.subtitles.cues import Cue, Segment
from subtitler.subtitles.speakers import speaker_names

FORMATS: tuple[str, ...] = ("srt", "vtt", "ass", "lrc", "txt", "json")
PYSUBS2_FORMATS = {"srt": "srt", "vtt": "vtt", "ass": "ass"}


def render(
    cues: Sequence[Cue],
    *,
    fmt: str = "srt",
    segments: Sequence[Segment] = (),
    language: str | None = None,
    duration: float | None = None,
    speaker_labels: bool = False,
) -> str:
    """The file text of `cues` in `fmt`; json carries `segments` with their words instead.

    Speakers (cues with `speakers`): SRT shows the dual-speaker dashes only, plus `Speaker 1: `
    before a cue whose speaker changed when `speaker_labels`; WebVTT voice spans; ASS the Name
    field; TXT labelled paragraphs; JSON `speaker` on segments and words."""
    fmt = fmt.lower()
    if fmt in PYSUBS2_FORMATS:
        return _pysubs2(cues, PYSUBS2_FORMATS[fmt], labels=speaker_labels)
    if fmt == "lrc":
        return _lrc(cues)
    if fmt == "txt":
        if any(cue.speakers for cue in cues):
            return _labelled_txt(cues)
        return "".join(" ".join(cue.lines) + "\n" for cue in cues)
    if fmt == "json":
        return _json(cues, segments, language=language, duration=duration)
    raise BadRequest(
        f"unknown subtitle format {fmt!r}; one of {', '.join(FORMATS)}", code="bad_format"
    )


def _pysubs2(cues: Sequence[Cue], format_: str, *, labels: bool = False) -> str:
    # ASS keeps centiseconds: start rounds up and end down, so gaps never shrink below the norm.
    step = 10 if format_ == "ass" else 1
    names = speaker_names(s for cue in cues for s in cue.speakers)
    subs = pysubs2.SSAFile()
    previous = ""
    for cue in cues:
        start = -(-round(cue.start * 1000) // step) * step
        end = round(cue.end * 1000) // step * step
        lines, name = list(cue.lines), ""
        who = [names.get(s, "") for s in cue.speakers]
        if any(who):
            name = " / ".join(dict.fromkeys(w for w in who if w))
            if format_ == "vtt":
                if len(who) == len(lines) and len(who) > 1:
                    lines = [_voice(w, line) for w, line in zip(who, lines, strict=True)]
                else:
                    lines = [_voice(who[0], r"\N".join(lines))]
            elif format_ == "srt" and labels and len(who) == 1 and who[0] != previous:
                lines[0] = f"{who[0]}: {lines[0]}"
            previous = who[-1]
        event = pysubs2.SSAEvent(start=start, end=end, text=r"\N".join(lines))
        if format_ == "ass":
            event.name = name
        subs.append(event)
    return subs.to_string(format_)


def _voice(name: str, text: str) -> str:
    return f"<v {name}>{text}</v>" if name else text


def _labelled_txt(cues: Sequence[Cue]) -> str:
    """The speaker-aware transcript: a paragraph for each speaker's turn, led by the name."""
    names = speaker_names(s for cue in cues for s in cue.speakers)
    paragraphs: list[tuple[str, list[str]]] = []
    for cue in cues:
        if len(cue.speakers) == len(cue.lines) and len(cue.lines) > 1:  # dual: a line each
            parts = [(s, _undash(line)) for s, line in zip(cue.speakers, cue.lines, strict=True)]
        else:
            parts = [(cue.speakers[0] if cue.speakers else "", " ".join(cue.lines))]
        for speaker, text in parts:
            if paragraphs and paragraphs[-1][0] == speaker:
                paragraphs[-1][1].append(text)
            else:
                paragraphs.append((speaker, [text]))
    return "\n".join(
        (f"{names[s]}: " if s in names else "") + " ".join(texts) + "\n" for s, texts in paragraphs
    )


def _undash(line: str) -> str:
    return line[1:].lstrip() if line[:1] in "-–—" else line


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
                **({"speaker": seg.speaker} if seg.speaker else {}),
                "words": [
                    {
                        "start": round(w.start, 3),
                        "end": round(w.end, 3),
                        "word": w.word.strip(),
                        "probability": round(w.probability, 4),
                        **({"speaker": w.speaker} if w.speaker else {}),
                    }
                    for w in seg.words
                ],
            }
            for seg in segments
        ],
        "cues": [
            {
                "start": round(c.start, 3),
                "end": round(c.end, 3),
                "lines": list(c.lines),
                **({"speakers": list(c.speakers)} if c.speakers else {}),
            }
            for c in cues
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
