"""Keeps `library_files` up to date from the scanner: per file its languages and the rules'
verdict (or why no rule wants it). Pure row building (`build_row`) runs off the event loop; the
writes are one bulk upsert per scan batch."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Sequence
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
_CHUNK = 400  # rows per upsert statement (SQLite's variable limit is 32,766)


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

    async def record(
        self,
        media: Sequence[MediaInfo],
        *,
        rules: Sequence[RuleOut],
        history: History,
        policy: UnknownLanguagePolicy,
        roots: Sequence[str],
    ) -> None:
        """Upsert the rows of one scan batch (the `ignored` flag is the user's: kept)."""

        def rows() -> list[dict[str, Any]]:
            return [
                build_row(m, rules=rules, state=history.state(m.path), policy=policy, roots=roots)
                for m in media
            ]

        await self._upsert(await asyncio.to_thread(rows))

    async def record_failures(self, failures: dict[str, Any], *, roots: Sequence[str]) -> None:
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
        await self._upsert(rows)

    async def _upsert(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        async with self._db.write() as session:
            for start in range(0, len(rows), _CHUNK):
                chunk = rows[start : start + _CHUNK]
                stmt = insert(LibraryFile).values(chunk)
                columns = {k: stmt.excluded[k] for k in chunk[0] if k != "path"}
                await session.execute(
                    stmt.on_conflict_do_update(index_elements=["path"], set_=columns)
                )

    async def prune(self, *, roots: Sequence[str], seen: set[str]) -> int:
        """Forget the files under `roots` a full walk no longer found."""
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
        if kept_ignored:  # an ignored folder's files are not walked: keep those still there,
            # so the Library can list them and "stop ignoring this folder" stays reachable
            exists = await asyncio.to_thread(lambda: {p for p in kept_ignored if Path(p).is_file()})
            gone.extend(p for p in kept_ignored if p not in exists)
        if gone:
            async with self._db.write() as session:
                for start in range(0, len(gone), _CHUNK):
                    chunk = gone[start : start + _CHUNK]
                    await session.execute(delete(LibraryFile).where(LibraryFile.path.in_(chunk)))
        return len(gone)

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
