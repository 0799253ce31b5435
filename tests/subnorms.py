"""Check a subtitle file against the readability norms of subtitle-style.md (any SRT parser)."""

from __future__ import annotations

import pysubs2

from subtitler.subtitles.cues import CueStyle


def check(subs: pysubs2.SSAFile, style: CueStyle | None = None) -> tuple[list[str], list[str]]:
    """(hard violations, soft ones). Hard: lines, characters, overlaps, gaps, max duration,
    identical consecutive cues. Soft (met where the speech allows): min duration, reading speed."""
    style = style or CueStyle()
    hard: list[str] = []
    soft: list[str] = []
    events = sorted(subs.events, key=lambda e: e.start)
    for i, ev in enumerate(events):
        lines = ev.plaintext.split("\n")
        where = f"cue {i + 1} ({ev.start} ms) {ev.plaintext!r}"
        if len(lines) > style.max_lines:
            hard.append(f"{where}: {len(lines)} lines")
        for line in lines:
            if len(line) > style.line_chars and " " in line:
                hard.append(f"{where}: line of {len(line)} characters")
        duration = (ev.end - ev.start) / 1000
        if duration > style.max_duration + 0.001:
            hard.append(f"{where}: {duration:.3f} s on screen")
        if duration < style.min_duration - 0.001:
            soft.append(f"{where}: only {duration:.3f} s")
        chars = sum(len(line) for line in lines)
        if duration > 0 and chars / duration > style.cps + 0.05:
            soft.append(f"{where}: {chars / duration:.1f} characters/s")
        if i:
            prev = events[i - 1]
            if ev.start < prev.end:
                hard.append(f"{where}: overlaps the cue before")
            elif ev.start - prev.end < round(style.min_gap * 1000):
                hard.append(f"{where}: {ev.start - prev.end} ms after the cue before")
            if ev.plaintext == prev.plaintext:
                hard.append(f"{where}: same text as the cue before")
    return hard, soft
