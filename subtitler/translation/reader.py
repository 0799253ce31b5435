"""Read an existing text subtitle into cues: a sidecar file, or an embedded stream extracted with
ffmpeg (as ASS, which keeps italics as override tags). Sizes are capped: no input may exhaust
memory."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pysubs2

from subtitler.errors import SubtitlerError
from subtitler.translation.markup import SourceCue, from_ass
from subtitler.translation.sources import SubtitleSource

logger = logging.getLogger(__name__)

MAX_SUBTITLE_BYTES = 20 * 1024 * 1024
EXTRACT_TIMEOUT = 300.0
_ENCODINGS = ("utf-8-sig", "utf-16", "cp1252", "latin-1")


class SubtitleUnreadable(SubtitlerError):
    status = 422
    code = "subtitle_unreadable"


def read_source(media: Path, source: SubtitleSource) -> list[SourceCue]:
    if source.kind == "external":
        text = _read_file(Path(source.path or ""))
        fmt = {"srt": "srt", "vtt": "vtt", "ass": "ass", "ssa": "ssa"}.get(source.codec or "")
    else:
        text = _extract(media, source.index or 0)
        fmt = "ass"
    try:
        subs = pysubs2.SSAFile.from_string(text, format_=fmt)
    except (pysubs2.exceptions.Pysubs2Error, ValueError) as exc:
        raise SubtitleUnreadable(f"cannot parse {source.describe()}: {exc}") from None
    return cues_of(subs)


def cues_of(subs: pysubs2.SSAFile) -> list[SourceCue]:
    cues: list[SourceCue] = []
    for event in sorted(subs.events, key=lambda e: (e.start, e.end)):
        if event.is_comment or event.end <= event.start or "\\p1" in event.text:
            continue
        prefix, lines = from_ass(event.text)
        if lines:
            cues.append(SourceCue(start=event.start / 1000, end=event.end / 1000, lines=lines,
                                  prefix=prefix))  # fmt: skip
    return cues


def _read_file(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_SUBTITLE_BYTES:
            raise SubtitleUnreadable(f"{path.name} is {size} bytes; subtitles over "
                                     f"{MAX_SUBTITLE_BYTES} bytes are not read")  # fmt: skip
        data = path.read_bytes()
    except OSError as exc:
        raise SubtitleUnreadable(f"cannot read {path}: {exc.strerror}") from None
    for encoding in _ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        return text
    return data.decode("utf-8", errors="replace")


def _extract(media: Path, index: int) -> str:
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(media), "-map", f"0:s:{index}",
           "-c:s", "ass", "-fs", str(MAX_SUBTITLE_BYTES + 1), "-f", "ass", "-"]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=EXTRACT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise SubtitleUnreadable(f"extracting subtitle stream s:{index} timed out") from None
    if done.returncode != 0:
        raise SubtitleUnreadable(
            f"ffmpeg could not extract subtitle stream s:{index}: "
            f"{done.stderr.decode(errors='replace').strip()[-300:]}"
        )
    if len(done.stdout) > MAX_SUBTITLE_BYTES:
        raise SubtitleUnreadable(f"subtitle stream s:{index} is over {MAX_SUBTITLE_BYTES} bytes")
    return done.stdout.decode("utf-8", errors="replace")
