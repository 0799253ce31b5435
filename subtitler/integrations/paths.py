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


def under(path: str, root: str) -> bool:
    """Whether `path` is `root` or inside it (whole components)."""
    root = _norm(root).rstrip("/")
    return bool(root) and _under(_norm(path), root)


def to_ours(path: str, mappings: Mappings) -> str | None:
    """Their path as ours; unchanged when no mapping is set; None when outside every mapping."""
    if not mappings:
        return path
    return _swap(path, ((m[0], m[1]) for m in mappings))


def to_theirs(path: str, mappings: Mappings) -> str:
    """Our path as theirs (reverse mapping); unchanged when no mapping covers it."""
    mapped = _swap(path, ((m[1], m[0]) for m in mappings)) if mappings else None
    return mapped if mapped is not None else path


def their_views(paths: Sequence[str], mappings: Mappings) -> list[list[str]]:
    """Every way a server may see `paths` (ours): one list per mapping that covers the first
    path, most specific first, then the paths unchanged. Several senders may see one folder
    under different names; the caller picks the view inside that server's libraries."""
    views: list[list[str]] = []
    ranked = sorted(mappings or [], key=lambda m: len(_norm(m[1]).rstrip("/")), reverse=True)
    for their_root, our_root in ranked:
        mapped = [_swap(p, [(our_root, their_root)]) for p in paths]
        if all(m is not None for m in mapped):
            view = [m for m in mapped if m is not None]
            if view not in views:
                views.append(view)
    if list(paths) not in views:
        views.append(list(paths))
    return views


def pick_view(views: list[list[str]], roots: Iterable[str]) -> list[str] | None:
    """The first view whose first path lies under one of `roots`; None when none does (that
    server does not hold the file). Without any roots known, the first view."""
    norm_roots = [_norm(r).rstrip("/") for r in roots if r]
    if not norm_roots:
        return views[0]
    for view in views:
        if any(_under(_norm(view[0]), root) for root in norm_roots):
            return view
    return None
