"""Subtitle file names: `<video base>.<lang>[.<tag>][.forced|.sdh].<ext>` beside the video."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subtitler.errors import BadRequest
from subtitler.media.languages import (
    UNDETERMINED,
    display_name,
    parse_language,
    to_alpha2,
    to_alpha3_b,
)
from subtitler.subtitles.formats import FORMATS

LANGUAGE_STYLES: tuple[str, ...] = ("639-2b", "639-1", "639-2t", "name")
_TAG = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True, kw_only=True)
class OutputOptions:
    """How a subtitle is written: format, file-name language style, tag, overwrite policy."""

    fmt: str = "srt"
    language_style: str = "639-2b"
    tag: str | None = None
    overwrite: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], *, fmt: str | None = None) -> OutputOptions:
        tag = str(settings.get("subtitle_provenance_tag") or "").strip() or None
        return cls(
            fmt=(fmt or str(settings.get("subtitle_format", "srt"))).lower(),
            language_style=str(settings.get("subtitle_language_style", "639-2b")),
            tag=tag,
            overwrite=bool(settings.get("overwrite_existing_subtitles", False)),
        )


def language_label(language: str | None, style: str = "639-2b") -> str:
    """The language part of a file name; `und` when the language is unknown."""
    if style not in LANGUAGE_STYLES:
        raise BadRequest(f"unknown language style {style!r}", code="bad_language_style")
    code = parse_language(language) if language else None
    if code is None:
        return UNDETERMINED
    if style == "639-2b":
        return to_alpha3_b(code)
    if style == "639-1":
        return to_alpha2(code) or to_alpha3_b(code)
    if style == "name":
        return display_name(code)
    return code


def subtitle_path(
    video: Path,
    *,
    language: str | None,
    options: OutputOptions | None = None,
    forced: bool = False,
    sdh: bool = False,
) -> Path:
    """Where the subtitle of `video` goes, e.g. `episode.spa.srt` or `Film.eng.ai.sdh.srt`."""
    options = options or OutputOptions()
    if options.fmt not in FORMATS:
        raise BadRequest(f"unknown subtitle format {options.fmt!r}", code="bad_format")
    if options.tag is not None and not _TAG.match(options.tag):
        raise BadRequest(
            "a provenance tag is 1-32 letters, digits, '-' or '_'", code="bad_provenance_tag"
        )
    if forced and sdh:
        raise BadRequest("a subtitle is forced or SDH, not both", code="bad_request")
    parts = [video.stem, language_label(language, options.language_style)]
    if options.tag:
        parts.append(options.tag)
    if forced:
        parts.append("forced")
    elif sdh:
        parts.append("sdh")
    parts.append(options.fmt)
    return video.with_name(".".join(parts))


def is_forced_name(path: str | Path | None) -> bool:
    """A forced subtitle's file name: `Film.eng[.tag].forced.srt`."""
    return path is not None and ".forced." in Path(str(path)).name
