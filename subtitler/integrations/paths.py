"""Path mappings between a sender's view of the library and ours (`path_mappings`: their -> ours).

A prefix matches on whole path components ("/tv" maps "/tv/Show" but not "/tvshows"); the
longest matching prefix wins; Windows-style senders (backslashes) are mapped too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Mappings = Sequence[Sequence[str]]


def _norm(path: str) -> str:
    return path.replace("\\", "/")


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/") or prefix == ""


def _swap(path: str, pairs: Iterable[tuple[str, str]]) -> str | None:
    best: tuple[str, str] | None = None
    norm = _norm(path)
    for source, target in pairs:
        src = _norm(source).rstrip("/")
        if _under(norm, src) and (best is None or len(src) > len(best[0])):
            best = (src, target)
    if best is None:
        return None
    src, target = best
    rest = norm[len(src) :].lstrip("/")
    target = target.rstrip("/\\") or "/"
    sep = "\\" if "\\" in target and "/" not in target else "/"
    if not rest:
        return target
    return f"{target}{'' if target.endswith(sep) else sep}{rest.replace('/', sep)}"


def to_ours(path: str, mappings: Mappings) -> str | None:
    """Their path as ours; unchanged when no mapping is set; None when outside every mapping."""
    if not mappings:
        return path
    return _swap(path, ((m[0], m[1]) for m in mappings))


def to_theirs(path: str, mappings: Mappings) -> str:
    """Our path as theirs (reverse mapping); unchanged when no mapping covers it."""
    mapped = _swap(path, ((m[1], m[0]) for m in mappings)) if mappings else None
    return mapped if mapped is not None else path
