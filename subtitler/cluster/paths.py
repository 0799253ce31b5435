"""Path mapping between the queue's form of a path and this node's (SUBTITLER_PATH_MAPPINGS).

`/media=/mnt/nas/media` says: what the queue stores as `/media/...` is `/mnt/nas/media/...` here.
The longest matching prefix wins; matching is by whole path components, so `/media` does not
capture `/media2`.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any


@dataclass(frozen=True)
class Mapping:
    queue: str
    local: str


def _clean(path: str, *, what: str, entry: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"{entry!r}: the {what} path must be absolute")
    cleaned = str(PurePosixPath(path))
    if ".." in PurePosixPath(cleaned).parts:
        raise ValueError(f"{entry!r}: '..' is not allowed")
    return cleaned


def parse_mappings(raw: str) -> tuple[Mapping, ...]:
    """Parse 'queue=local[,queue=local...]'; ValueError names the bad entry."""
    out: list[Mapping] = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        if entry.count("=") != 1:
            raise ValueError(f"{entry!r}: expected QUEUE_PATH=LOCAL_PATH, e.g. /media=/mnt/media")
        queue, local = (side.strip() for side in entry.split("="))
        queue = _clean(queue, what="queue", entry=entry)
        local = _clean(local, what="local", entry=entry)
        if any(m.queue == queue for m in out):
            raise ValueError(f"{entry!r}: {queue} is mapped twice")
        out.append(Mapping(queue, local))
    return tuple(out)


def _swap(path: str, pairs: list[tuple[str, str]]) -> str | None:
    for src, dst in sorted(pairs, key=lambda p: len(p[0]), reverse=True):
        if path == src:
            return dst
        prefix = src.rstrip("/") + "/"
        if path.startswith(prefix):
            return dst.rstrip("/") + "/" + path[len(prefix) :]
    return None


class PathMapper:
    """Queue path <-> local path. Without mappings both directions are the identity."""

    def __init__(self, mappings: tuple[Mapping, ...] = ()) -> None:
        self.mappings = mappings

    @classmethod
    def from_config(cls, raw: str) -> PathMapper:
        return cls(parse_mappings(raw))

    @property
    def identity(self) -> bool:
        return not self.mappings

    def queue_prefixes(self) -> tuple[str, ...] | None:
        """The queue-side folders this node can see; None means every path (no mappings)."""
        return tuple(m.queue for m in self.mappings) or None

    def to_local(self, queue_path: str) -> str:
        mapped = _swap(queue_path, [(m.queue, m.local) for m in self.mappings])
        return queue_path if mapped is None else mapped

    def to_queue(self, local_path: str) -> str:
        mapped = _swap(local_path, [(m.local, m.queue) for m in self.mappings])
        return local_path if mapped is None else mapped

    def local_written(self, written: MappingType[str, str]) -> dict[str, str]:
        """The registry of written subtitles ({queue path: sha256}) with this node's paths."""
        return {self.to_local(path): sha for path, sha in written.items()}

    def local_job(self, payload: MappingType[str, Any]) -> dict[str, Any]:
        """A job as this node reads it: every path in it that names a file of the library (the
        media, the subtitle a redo replaces, the subtitle a translation reads) in local form.
        Nothing on a mapping node ever opens the queue's form of a path."""
        out = dict(payload)
        if self.identity:
            return out
        if isinstance(out.get("file_path"), str):
            out["file_path"] = self.to_local(out["file_path"])
        options = dict(out.get("options") or {})
        if isinstance(options.get("replaces"), str):
            options["replaces"] = self.to_local(options["replaces"])
        source = options.get("subtitle_source")
        if isinstance(source, dict) and isinstance(source.get("path"), str):
            options["subtitle_source"] = {**source, "path": self.to_local(source["path"])}
        if out.get("options") is not None:
            out["options"] = options
        return out

    def describe(self) -> list[dict[str, str]]:
        return [{"queue": m.queue, "local": m.local} for m in self.mappings]
