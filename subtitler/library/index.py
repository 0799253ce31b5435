"""Keeps `library_files` up to date from the scanner: per file its languages and the rules'
verdict (or why no rule wants it). Pure row building (`build_row`) runs off the event loop.

Rows change only when they differ: a scan loads the rows under its folders once (`snapshot`, one
query), compares each built row with the stored one and writes the changed rows only, as one
executemany per batch (an unchanged rescan writes nothing)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from subtitler.db import Database
from subtitler.db.models import utcnow
from subtitler.db.models_library import LibraryFile
from subtitler.library.verdict import FileState, decide, detected_languages
from subtitler.media.probe import MediaInfo
from subtitler.rules.engine import UnknownLanguagePolicy
from subtitler.rules.models import RuleOut
from subtitler.scanner.cache import prefix_range

if TYPE_CHECKING:
    from subtitler.scanner.library import History

logger = logging.getLogger(__name__)

_SEASON = re.compile(r"^(?:season|series|staffel|saison|temporada|stagione)[ ._-]*(\d{1,3})$", re.I)
_SXXEXX = re.compile(r"\bS(\d{1,3})E\d{1,4}\b", re.I)
_CHUNK = 400  # paths per IN (...) / rows per executemany
# The columns a scan writes and compares (not `path`, the user's `ignored`, nor `indexed_at`).
COMPARED = (
    "folder", "name", "series", "season", "size", "mtime_ns", "duration_seconds", "audio_langs",
    "detected_langs", "embedded_langs", "external_langs", "verdict", "reason", "rule_name",
)  # fmt: skip
_INSERT_DEFAULTS: dict[str, Any] = {"size": 0, "mtime_ns": 0, "audio_langs": "",
                                    "detected_langs": "", "embedded_langs": "",
                                    "external_langs": ""}  # fmt: skip
StoredRow = tuple[Any, ...]  # the COMPARED columns, in order


@dataclass
class Snapshot:
    """The stored rows of some files (COMPARED columns) and which of them the user ignores."""

    rows: dict[str, StoredRow] = field(default_factory=dict)
    ignored: set[str] = field(default_factory=set)


def _stored(row: dict[str, Any], old: StoredRow | None) -> StoredRow:
    """What the database holds for `row` once it is upserted over `old` (a failure's row only
    sets some columns: the others keep their value)."""
    return tuple(
        row[k] if k in row else (old[i] if old is not None else _INSERT_DEFAULTS.get(k))
        for i, k in enumerate(COMPARED)
    )


def changed_rows(rows: Iterable[dict[str, Any]], snapshot: Snapshot) -> list[dict[str, Any]]:
    """The rows that differ from the stored ones (new files included); `snapshot` is updated
    to hold them, as the database will once they are written."""
    out: list[dict[str, Any]] = []
    for row in rows:
        old = snapshot.rows.get(row["path"])
        new = _stored(row, old)
        if new != old:
            out.append(row)
            snapshot.rows[row["path"]] = new
    return out


def langs_text(codes: Iterable[str | None]) -> str:
    """`,eng,spa,` (sorted, unique; empty string when none): one LIKE finds a language."""
    found = sorted({c for c in codes if c})
    return f",{','.join(found)}," if found else ""


def series_season(path: str, roots: Sequence[str]) -> tuple[str | None, int | None]:
    """The series folder (first folder under the library root) and the season number (from a
    `Season 2` folder or an `S02E05` name), when the layout says so."""
    root = next((r for r in roots if path.startswith(r.rstrip("/") + "/")), None)
    parts = path[len(root.rstrip("/")) + 1 :].split("/") if root else path.split("/")[-3:]
    folders, name = parts[:-1], parts[-1]
    season: int | None = None
    for folder in folders[1:]:
        match = _SEASON.match(folder)
        if match:
            season = int(match.group(1))
    if season is None and (match := _SXXEXX.search(name)):
        season = int(match.group(1))
    series = folders[0] if folders and (season is not None or len(folders) > 1) else None
    return series, season


def build_row(
    info: MediaInfo,
    *,
    rules: Sequence[RuleOut],
    state: FileState,
    policy: UnknownLanguagePolicy,
    roots: Sequence[str],
) -> dict[str, Any]:
    series, season = series_season(info.path, roots)
    verdict = decide(rules, info, state, policy)
    return {
        "path": info.path,
        "folder": str(Path(info.path).parent),
        "name": info.file_name,
        "series": series,
        "season": season,
        "size": info.size,
        "mtime_ns": info.mtime_ns,
        "duration_seconds": info.duration_seconds,
        "audio_langs": langs_text(t.language for t in info.audio_tracks),
        "detected_langs": langs_text(detected_languages(info, state.detected)),
        "embedded_langs": langs_text(s.language for s in info.embedded_subtitles if not s.forced),
        "external_langs": langs_text(s.language for s in info.external_subtitles if not s.forced),
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "rule_name": verdict.rule_name,
        "indexed_at": utcnow(),
    }


class LibraryIndex:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def snapshot(self, *, roots: Sequence[str] = (), paths: Sequence[str] = ()) -> Snapshot:
        """The stored rows under `roots` (one query) or of `paths`."""
        columns = [LibraryFile.path, LibraryFile.ignored] + [
            getattr(LibraryFile, k) for k in COMPARED
        ]
        wheres: list[Any] = []
        if roots:
            ranges = [prefix_range(r) for r in roots]
            wheres.append(
                or_(*(and_(LibraryFile.path >= lo, LibraryFile.path < hi) for lo, hi in ranges))
            )
        exact = list(dict.fromkeys(paths))
        wheres += [
            LibraryFile.path.in_(exact[i : i + _CHUNK]) for i in range(0, len(exact), _CHUNK)
        ]
        snap = Snapshot()
        async with self._db.read() as session:
            conn = await session.connection()  # Core rows: no ORM loading per row
            for where in wheres:
                result = await conn.execute(select(*columns).where(where))
                for path, ignored, *values in result:
                    snap.rows[path] = tuple(values)
                    if ignored:
                        snap.ignored.add(path)
        return snap

    async def record(
        self,
        media: Sequence[MediaInfo],
        *,
        rules: Sequence[RuleOut],
        history: History,
        policy: UnknownLanguagePolicy,
        roots: Sequence[str],
        snapshot: Snapshot | None = None,
    ) -> int:
        """Write the rows of `media` that changed (the `ignored` flag is the user's: kept).
        `snapshot`: the stored rows (a scan's, kept up to date here); None reads them."""
        if not media:
            return 0
        if snapshot is None:
            snapshot = await self.snapshot(paths=[m.path for m in media])
        known = snapshot

        def rows() -> list[dict[str, Any]]:
            built = (
                build_row(m, rules=rules, state=history.state(m.path), policy=policy, roots=roots)
                for m in media
            )
            return changed_rows(built, known)

        return await self._upsert(await asyncio.to_thread(rows))

    async def record_failures(
        self, failures: dict[str, Any], *, roots: Sequence[str], snapshot: Snapshot | None = None
    ) -> int:
        rows = []
        for path, failure in failures.items():
            series, season = series_season(path, roots)
            rows.append(
                {
                    "path": path,
                    "folder": str(Path(path).parent),
                    "name": Path(path).name,
                    "series": series,
                    "season": season,
                    "verdict": "probe_failed",
                    "reason": getattr(failure, "detail", str(failure)),
                    "rule_name": None,
                    "indexed_at": utcnow(),
                }
            )
        if not rows:
            return 0
        if snapshot is None:
            snapshot = await self.snapshot(paths=list(failures))
        return await self._upsert(changed_rows(rows, snapshot))

    async def _upsert(self, rows: list[dict[str, Any]]) -> int:
        """One compiled INSERT .. ON CONFLICT UPDATE per column set, run as executemany."""
        if not rows:
            return 0
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        table = LibraryFile.metadata.tables[LibraryFile.__tablename__]
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        async with self._db.write() as session:
            for keys, group in groups.items():
                stmt = insert(table)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["path"], set_={k: stmt.excluded[k] for k in keys if k != "path"}
                )
                for start in range(0, len(group), _CHUNK):
                    await session.execute(stmt, group[start : start + _CHUNK])
        return len(rows)

    async def prune(
        self, *, roots: Sequence[str], seen: set[str], snapshot: Snapshot | None = None
    ) -> int:
        """Forget the files under `roots` a full walk no longer found (`snapshot`: the rows
        under `roots` as a scan loaded them, else read here)."""
        gone: list[str] = []
        kept_ignored: list[str] = []
        if snapshot is not None:
            for path in snapshot.rows:
                if path not in seen:
                    (kept_ignored if path in snapshot.ignored else gone).append(path)
        else:
            gone, kept_ignored = await self._unseen(roots, seen)
        if kept_ignored:  # an ignored folder's files are not walked: keep those still there,
            # so the Library can list them and "stop ignoring this folder" stays reachable
            exists = await asyncio.to_thread(lambda: {p for p in kept_ignored if Path(p).is_file()})
            gone.extend(p for p in kept_ignored if p not in exists)
        if gone:
            async with self._db.write() as session:
                for start in range(0, len(gone), _CHUNK):
                    chunk = gone[start : start + _CHUNK]
                    await session.execute(delete(LibraryFile).where(LibraryFile.path.in_(chunk)))
            if snapshot is not None:
                for path in gone:
                    snapshot.rows.pop(path, None)
        return len(gone)

    async def _unseen(self, roots: Sequence[str], seen: set[str]) -> tuple[list[str], list[str]]:
        gone: list[str] = []
        kept_ignored: list[str] = []
        async with self._db.read() as session:
            for root in roots:
                low, high = prefix_range(root)
                rows = await session.execute(
                    select(LibraryFile.path, LibraryFile.ignored).where(
                        and_(LibraryFile.path >= low, LibraryFile.path < high)
                    )
                )
                for path, ignored in rows.all():
                    if path not in seen:
                        (kept_ignored if ignored else gone).append(path)
        return gone, kept_ignored

    async def known(self, paths: Sequence[str]) -> list[str]:
        """The ones of `paths` the index holds."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(LibraryFile.path).where(LibraryFile.path.in_(list(paths)))
            )
            return sorted(rows)

    async def ignored_paths(self, *, roots: Sequence[str]) -> set[str]:
        ranges = [prefix_range(r) for r in roots]
        where = or_(*(and_(LibraryFile.path >= lo, LibraryFile.path < hi) for lo, hi in ranges))
        async with self._db.read() as session:
            rows = await session.scalars(
                select(LibraryFile.path).where(LibraryFile.ignored.is_(True), where)
            )
            return set(rows)

    async def set_ignored(self, paths: Sequence[str], *, ignored: bool) -> int:
        async with self._db.write() as session:
            result = await session.execute(
                update(LibraryFile).where(LibraryFile.path.in_(list(paths))).values(ignored=ignored)
            )
            return int(getattr(result, "rowcount", 0) or 0)
