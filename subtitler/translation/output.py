"""Write translated cues in any output format, italics kept where the format has them."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pysubs2

from subtitler.subtitles.cues import Cue, Segment
from subtitler.subtitles.formats import PYSUBS2_FORMATS, render
from subtitler.translation.markup import strip_tags, to_ass


def render_translated(
    cues: Sequence[Cue], *, fmt: str, language: str | None, duration: float | None = None,
    segments: Sequence[Segment] = (),
) -> str:  # fmt: skip
    fmt = fmt.lower()
    if fmt not in PYSUBS2_FORMATS:
        plain = [Cue(start=c.start, end=c.end, lines=tuple(_plain(x) for x in c.lines))
                 for c in cues]  # fmt: skip
        return render(plain, fmt=fmt, language=language, duration=duration, segments=segments)
    step = 10 if fmt == "ass" else 1
    subs = pysubs2.SSAFile()
    for cue in cues:
        start = -(-round(cue.start * 1000) // step) * step
        end = round(cue.end * 1000) // step * step
        lines = [to_ass(x) for x in cue.lines]
        if fmt == "srt" and lines:  # pysubs2 drops every override in SRT but <i>/<b>/<u>
            lines[0] = _POSITION.sub(lambda m: f"\u2983{m.group(1)}\u2984", lines[0])
        subs.append(pysubs2.SSAEvent(start=start, end=end, text=r"\N".join(lines)))
    text = subs.to_string(PYSUBS2_FORMATS[fmt])
    if fmt == "srt":  # the {\anN} position tag most players honour in SRT too
        text = re.sub("\u2983(an?\\d+)\u2984", lambda m: "{\\" + m.group(1) + "}", text)
    return text


_POSITION = re.compile(r"\{\\(an?\d+)\}")


def _plain(line: str) -> str:
    return strip_tags(re.sub(r"\{[^}]*\}", "", line))
