"""Write translated cues in any output format, italics kept where the format has them."""

from __future__ import annotations

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
        subs.append(pysubs2.SSAEvent(start=start, end=end,
                                     text=r"\N".join(to_ass(x) for x in cue.lines)))  # fmt: skip
    return subs.to_string(PYSUBS2_FORMATS[fmt])


def _plain(line: str) -> str:
    import re

    return strip_tags(re.sub(r"\{[^}]*\}", "", line))
