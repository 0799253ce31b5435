"""Which existing subtitle a file's translation starts from (pure: works on a MediaInfo).

Text subtitles only (sidecar srt/ass/ssa/vtt, embedded subrip/ass/ssa/mov_text/webvtt); image
subtitles (PGS, VobSub) are not text and leave the job to speech recognition. Full subtitles come
before SDH ones and both before forced ones (a forced subtitle only covers foreign dialogue); the
accepted languages come in their order, else the audio's language, then English, then the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from subtitler.media.languages import parse_language
from subtitler.media.probe import MediaInfo

TEXT_SIDECAR_FORMATS = frozenset({"srt", "ass", "ssa", "vtt"})
TEXT_CODECS = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"})
ENGLISH = "eng"


class SubtitleSource(BaseModel):
    kind: str  # external | embedded
    language: str
    path: str | None = None  # external
    index: int | None = None  # embedded: subtitle-relative (`-map 0:s:<index>`)
    codec: str | None = None  # subrip, ass, mov_text, webvtt / srt, ass, vtt
    forced: bool = False
    sdh: bool = False

    def describe(self) -> str:
        flags = "".join(f", {f}" for f, on in (("forced", self.forced), ("SDH", self.sdh)) if on)
        where = self.path if self.kind == "external" else f"embedded stream s:{self.index}"
        return f"{where} ({self.language}, {self.codec}{flags})"


def text_sources(info: MediaInfo, *, exclude: Iterable[str] = ()) -> list[SubtitleSource]:
    """Every text subtitle with a known language, sidecars first (unordered otherwise)."""
    skip = set(exclude)
    out: list[SubtitleSource] = []
    for ext in info.external_subtitles:
        if ext.is_text and ext.format in TEXT_SIDECAR_FORMATS and ext.language:
            if ext.path in skip:
                continue
            out.append(SubtitleSource(kind="external", language=ext.language, path=ext.path,
                                      codec=ext.format, forced=ext.forced,
                                      sdh=ext.hearing_impaired))  # fmt: skip
    for emb in info.embedded_subtitles:
        codec = (emb.codec or "").lower()
        if emb.is_text and codec in TEXT_CODECS and emb.language:
            out.append(SubtitleSource(kind="embedded", language=emb.language, index=emb.index,
                                      codec=codec, forced=emb.forced,
                                      sdh=emb.hearing_impaired))  # fmt: skip
    return out


def choose_source(
    candidates: Sequence[SubtitleSource],
    *,
    target: str,
    accepted: Sequence[str] = (),
    audio_language: str | None = None,
    supports: Callable[[str, str], bool] | None = None,
) -> SubtitleSource | None:
    """The best source for `target`, or None (then the job listens to the audio)."""
    target = parse_language(target) or target
    wanted = [c for c in (parse_language(a) for a in accepted) if c]
    usable = [
        c
        for c in candidates
        if c.language != target
        and (not wanted or c.language in wanted)
        and (supports is None or supports(c.language, target))
    ]
    if not usable:
        return None
    order = wanted or [x for x in (parse_language(audio_language or ""), ENGLISH) if x]

    def rank(c: SubtitleSource) -> tuple[Any, ...]:
        lang_rank = order.index(c.language) if c.language in order else len(order)
        return (c.forced, c.sdh, lang_rank, c.kind != "external")

    return sorted(usable, key=rank)[0]
