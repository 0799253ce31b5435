"""Walk library folders with os.scandir: media candidates, their sidecars, skipped files by reason.

Each folder is listed exactly once; a media file costs one stat (size + mtime, the probe cache key)
and its sidecars come from that same listing. A folder holding `.subtitlerignore` is skipped with
everything under it.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Protocol

from subtitler.media.sidecars import (
    SUBTITLE_EXTENSIONS,
    ExternalSubtitle,
    sidecars_by_media,
    split_name,
)
from subtitler.security.paths import real_inside, real_roots

logger = logging.getLogger(__name__)

IGNORE_MARKER = ".subtitlerignore"
VIDEO_EXTENSIONS: tuple[str, ...] = (".mkv", ".mp4", ".m4v", ".avi", ".mov", ".wmv", ".ts")
VIDEO_EXTENSIONS += (".m2ts", ".mts", ".webm", ".mpg", ".mpeg", ".flv", ".ogv", ".vob", ".3gp")
VIDEO_EXTENSIONS += (".divx",)
AUDIO_EXTENSIONS: tuple[str, ...] = (".mp3", ".m4a", ".m4b", ".flac", ".wav", ".ogg", ".opus")
AUDIO_EXTENSIONS += (".aac", ".wma", ".mka")
DEFAULT_MEDIA_EXTENSIONS: tuple[str, ...] = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS
JUNK_NAMES = {"@eadir", "#recycle", "#snapshot", "$recycle.bin", "system volume information"}
JUNK_NAMES |= {"lost+found", "thumbs.db", "desktop.ini"}
PARTIAL_SUFFIXES = {".partial", ".part", ".!qb", ".!ut", ".crdownload", ".download", ".tmp"}
_SAMPLE = re.compile(r"(?:^|[^a-z0-9])samples?(?:[^a-z0-9]|$)")
SKIP_REASONS = ("junk", "partial", "sample", "not_media", "ignored", "unreadable", "outside")


class SettingsReader(Protocol):
    def get(self, key: str, /) -> Any: ...


@dataclass(frozen=True, kw_only=True)
class WalkOptions:
    recursive: bool = True
    media_extensions: frozenset[str] = frozenset(DEFAULT_MEDIA_EXTENSIONS)
    sample_max_bytes: int = 200 * 1024 * 1024
    # the allowed folders, resolved: a symlink whose target lies elsewhere is not followed
    confine: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: SettingsReader, *, recursive: bool = True) -> WalkOptions:
        """From `scanner_media_extensions` and `scanner_sample_max_mb` (SettingsService or dict)."""
        exts = settings.get("scanner_media_extensions") or DEFAULT_MEDIA_EXTENSIONS
        return cls(
            recursive=recursive,
            media_extensions=frozenset("." + str(e).lower().lstrip(".") for e in exts),
            sample_max_bytes=int(settings.get("scanner_sample_max_mb")) * 1024 * 1024,
            confine=real_roots(settings.get),
        )


@dataclass(frozen=True, kw_only=True)
class MediaCandidate:
    path: str
    size: int
    mtime_ns: int
    sidecars: list[ExternalSubtitle]
    inode: int = 0  # with size and mtime: an unchanged rescan's key (a file replaced in place)


@dataclass
class WalkStats:
    directories: int = 0
    media_files: int = 0
    sidecar_files: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> files (folders for junk
    errors: list[str] = field(default_factory=list)  # dirs and ignored trees count once)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def is_junk_name(name: str) -> bool:
    low = name.lower()
    return low.startswith(".") or low in JUNK_NAMES


def is_partial_name(name: str) -> bool:
    return split_name(name)[1] in PARTIAL_SUFFIXES


def is_sample(name: str, *, size: int, parent: str, options: WalkOptions) -> bool:
    hit = _SAMPLE.search(name.lower()) or _SAMPLE.fullmatch(parent.lower())
    return bool(hit) and size < options.sample_max_bytes


def file_skip_reason(
    path: str | os.PathLike[str],
    *,
    size: int,
    options: WalkOptions,
    root: str | os.PathLike[str] | None = None,
) -> str | None:
    """Why a single file would be skipped by its name and size (None: a media candidate).

    For the watcher's single-file events; only the parts below `root` (the library folder) are
    checked for junk names. `is_ignored` checks the `.subtitlerignore` trees.
    """
    pure = PurePath(path)
    parts = pure.parts[1:]
    if root is not None and pure.is_relative_to(root):
        parts = pure.relative_to(root).parts
    if any(is_junk_name(part) for part in parts):
        return "junk"
    if is_partial_name(pure.name):
        return "partial"
    if pure.suffix.lower() not in options.media_extensions:
        return "not_media"
    if is_sample(pure.name, size=size, parent=pure.parent.name, options=options):
        return "sample"
    return None


def is_ignored(path: str | os.PathLike[str], *, roots: Iterable[str | os.PathLike[str]]) -> bool:
    """True when a folder between `path` and the library root holding it has `.subtitlerignore`."""
    file = Path(path)
    for root in (Path(r) for r in roots):
        if not file.is_relative_to(root):
            continue
        folder = file.parent
        while True:
            if (folder / IGNORE_MARKER).exists():
                return True
            if folder == root or folder == folder.parent:
                break
            folder = folder.parent
    return False


def _symlink_out(entry: os.DirEntry[str], confine: tuple[str, ...]) -> bool:
    """A symlink (to a file or a folder) whose target lies outside the allowed folders."""
    try:
        link = entry.is_symlink()
    except OSError:
        return False
    return link and not real_inside(entry.path, confine)


def walk(
    roots: Iterable[str | os.PathLike[str]],
    *,
    options: WalkOptions | None = None,
    stats: WalkStats | None = None,
) -> Iterator[MediaCandidate]:
    """Media candidates under `roots`, each folder's files (sorted) before its subfolders."""
    options = options or WalkOptions()
    stats = stats if stats is not None else WalkStats()
    seen: set[tuple[int, int]] = set()
    for root in roots:
        stack = [os.fspath(root)]
        while stack:
            folder = stack.pop()
            subdirs = yield from _walk_folder(folder, options=options, stats=stats, seen=seen)
            if options.recursive:
                stack.extend(sorted(subdirs, reverse=True))


def _walk_folder(
    folder: str, *, options: WalkOptions, stats: WalkStats, seen: set[tuple[int, int]]
) -> Generator[MediaCandidate, None, list[str]]:
    """Yield the folder's media candidates; return its subfolders."""
    try:
        st = Path(folder).stat()
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop or a folder reached twice
            return []
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError as exc:
        stats.skipped["unreadable"] += 1
        stats.errors.append(f"{folder}: {exc.strerror or exc}")
        logger.warning("cannot list %s: %s", folder, exc)
        return []
    stats.directories += 1
    if any(e.name == IGNORE_MARKER for e in entries):
        stats.skipped["ignored"] += 1
        return []
    subdirs: list[str] = []
    media: dict[str, tuple[str, int, int, int]] = {}
    parent = PurePath(folder).name
    for entry in entries:
        name = entry.name
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_junk_name(name):
            stats.skipped["junk"] += 1
        elif options.confine and _symlink_out(entry, options.confine):
            stats.skipped["outside"] += 1
        elif is_dir:
            subdirs.append(entry.path)
        elif is_partial_name(name):
            stats.skipped["partial"] += 1
        else:
            ext = split_name(name)[1]
            if ext in SUBTITLE_EXTENSIONS:
                stats.sidecar_files += 1
            elif ext not in options.media_extensions:
                stats.skipped["not_media"] += 1
            else:
                try:
                    fst = entry.stat()
                except OSError:
                    stats.skipped["unreadable"] += 1
                    continue
                if is_sample(name, size=fst.st_size, parent=parent, options=options):
                    stats.skipped["sample"] += 1
                else:
                    media[name] = (entry.path, fst.st_size, fst.st_mtime_ns, fst.st_ino)
    if media:
        sidecars = sidecars_by_media(folder, names=[e.name for e in entries], media_names=media)
        for name in sorted(media):
            stats.media_files += 1
            path, size, mtime_ns, inode = media[name]
            yield MediaCandidate(
                path=path, size=size, mtime_ns=mtime_ns, sidecars=sidecars[name], inode=inode
            )
    return subdirs
