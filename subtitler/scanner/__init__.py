"""Library scanning: walker (this layer), stability tracker, watcher, scheduler, service."""

from subtitler.scanner.walker import (
    MediaCandidate,
    WalkOptions,
    WalkStats,
    file_skip_reason,
    is_ignored,
    walk,
)

__all__ = [
    "MediaCandidate",
    "WalkOptions",
    "WalkStats",
    "file_skip_reason",
    "is_ignored",
    "walk",
]
