"""External subtitles beside a media file: `Movie.en.srt`, `Movie.eng.forced.srt`, `Movie.srt`...

A sidecar belongs to the media file with the longest stem it starts with, so `Movie.Part2.en.srt`
goes to `Movie.Part2.mkv`, not `Movie.mkv`. The scanner passes one directory listing for all the
files of a folder (`sidecars_by_media`), so a folder is listed once per scan.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from subtitler.media.languages import parse_language

logger = logging.getLogger(__name__)

SUBTITLE_EXTENSIONS: frozenset[str] = frozenset(
    {".srt", ".vtt", ".ass", ".ssa", ".sub", ".idx", ".sup"}
)
_IMAGE_FORMATS = {"vobsub", "sup"}
_FORCED = {"forced", "foreign"}
_HEARING = {"sdh", "hi", "cc", "hearing_impaired", "hearing-impaired", "hearingimpaired"}


class ExternalSubtitle(BaseModel):
    path: str
    format: str  # srt vtt ass ssa sub (MicroDVD text) vobsub (.idx + .sub) sup (PGS)
    language: str | None = None  # ISO 639-2/T; None when the name carries none
    language_tag: str | None = None  # the name part it came from: `en`, `English`, `pt-BR`
    forced: bool = False
    hearing_impaired: bool = False
    is_text: bool = True
    tags: list[str] = Field(default_factory=list)  # other name parts, e.g. a provenance tag


def split_name(name: str) -> tuple[str, str]:
    """(stem, lowercase suffix) of a bare file name, as PurePath would give, without the cost."""
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return name, ""
    return name[:dot], name[dot:].lower()


def parse_sidecar_name(media_stem: str, file_name: str) -> ExternalSubtitle | None:
    """Parse `file_name` as a sidecar of a media file whose name without suffix is `media_stem`.

    Returns None when the name is not `<stem>[.<part>...].<subtitle ext>`. The path is the bare
    file name; callers join it with the folder.
    """
    stem, ext = split_name(file_name)
    if ext not in SUBTITLE_EXTENSIONS:
        return None
    if stem != media_stem and not stem.startswith(media_stem + "."):
        return None
    parts = [p for p in stem[len(media_stem) :].split(".") if p]
    fmt = {".idx": "vobsub", ".sub": "sub"}.get(ext, ext[1:])
    sub = ExternalSubtitle(path=file_name, format=fmt, is_text=fmt not in _IMAGE_FORMATS)
    for i, part in enumerate(parts):
        low = part.lower()
        if low in _FORCED:
            sub.forced = True
            continue
        only_hi = low == "hi" and sub.language is None and len(parts) == 1 and i == 0
        if low in _HEARING and not only_hi:  # `Movie.hi.srt` alone is Hindi
            sub.hearing_impaired = True
            continue
        code = parse_language(part) if sub.language is None else None
        if code is not None:
            sub.language, sub.language_tag = code, part
        else:
            sub.tags.append(part)
    return sub


def sidecars_by_media(
    directory: str | os.PathLike[str], *, names: Iterable[str], media_names: Iterable[str]
) -> dict[str, list[ExternalSubtitle]]:
    """Sidecars of each of `media_names` among `names` (one listing of `directory`)."""
    folder = Path(directory)
    # several media files may share a stem (Movie.mkv + Movie.mp4): each gets the stem's sidecars
    by_stem: dict[str, list[str]] = {}
    for name in media_names:
        by_stem.setdefault(split_name(name)[0], []).append(name)
    found: dict[str, list[ExternalSubtitle]] = {m: [] for ms in by_stem.values() for m in ms}
    sub_names = [n for n in names if split_name(n)[1] in SUBTITLE_EXTENSIONS]
    lower = {n.lower() for n in sub_names}
    for name in sorted(sub_names):
        base, ext = split_name(name)
        if ext == ".sub" and (base + ".idx").lower() in lower:
            continue  # the .idx describes the VobSub pair
        # the longest media stem that is `base` itself or `base` cut at a dot
        cut = len(base)
        while cut > 0:
            owners = by_stem.get(base[:cut])
            if owners is not None:
                for media in owners:
                    sub = parse_sidecar_name(base[:cut], name)
                    if sub is not None:
                        sub.path = str(folder / name)
                        found[media].append(sub)
                break
            cut = base.rfind(".", 0, cut)
    return found


def find_sidecars(
    media_path: str | os.PathLike[str], *, names: Iterable[str] | None = None
) -> list[ExternalSubtitle]:
    """Sidecars of one media file; `names` is the folder listing when the caller has it."""
    path = Path(media_path)
    if names is None:
        try:
            with os.scandir(path.parent) as entries:
                names = [entry.name for entry in entries]
        except OSError as exc:
            logger.warning("cannot list %s for sidecars: %s", path.parent, exc)
            return []
    listed = list(names)
    # other media-like files in the folder compete for sidecars with longer stems
    others = [
        n
        for n in listed
        if split_name(n)[1] not in SUBTITLE_EXTENSIONS
        and n != path.name
        and split_name(n)[0].startswith(path.stem + ".")
    ]
    return sidecars_by_media(path.parent, names=listed, media_names=[path.name, *others])[path.name]
