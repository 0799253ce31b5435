"""The Library page's service: one page of the index, and actions on files (subtitle now,
translate now, redo, ignore) by explicit paths or by the page's filter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from subtitler.db import Database
from subtitler.db.models import Job, WrittenSubtitle
from subtitler.db.models_library import LibraryFile
from subtitler.errors import BadRequest, Conflict, SubtitlerError
from subtitler.jobs.states import JobStatus, Task
from subtitler.library.query import LibraryFilter, matching_paths, query_page, split_langs
from subtitler.media.languages import display_name, parse_language
from subtitler.scanner.walker import IGNORE_MARKER
from subtitler.security.paths import allowed_path, real_inside

logger = logging.getLogger(__name__)

ACTIONS = ("subtitle", "translate", "redo", "ignore", "unignore")
MAX_SELECTION = 5000  # files one action may touch (a filter matching more is refused)
MANUAL_PRIORITY = 10  # "now": ahead of the scanner's jobs


class LibraryService:
    def __init__(self, *, db: Database, jobs: Any, settings: Any) -> None:
        self._db = db
        self._jobs = jobs  # JobService: create (and redo, where branch `jobs` adds it)
        self._settings = settings

    async def page(
        self, *, flt: LibraryFilter, sort: str, order: str, page: int, page_size: int
    ) -> dict[str, Any]:
        async with self._db.read() as session:
            return await query_page(
                session, flt=flt, sort=sort, order=order, page=page, page_size=page_size
            )

    async def act(
        self,
        *,
        action: str,
        paths: Sequence[str] | None,
        flt: LibraryFilter | None,
        target_language: str | None = None,
        quality_preset: str | None = None,
        also_when_present: bool = False,
    ) -> dict[str, Any]:
        if action not in ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(ACTIONS)}", code="invalid_action")
        chosen = await self._select(paths, flt)
        errors: list[dict[str, str]] = []
        affected = 0
        if action in ("ignore", "unignore"):
            affected = await self._set_ignored(chosen, ignored=action == "ignore")
            return {"action": action, "matched": len(chosen), "affected": affected, "errors": []}
        target = None
        if target_language:
            target = parse_language(target_language)
            if target is None:
                raise BadRequest(f"Unknown language: {target_language}", code="invalid_language")
        if action in ("subtitle", "translate"):
            chosen, refused = await self._check_files(
                chosen, target=target or ("eng" if action == "translate" else None),
                also_when_present=also_when_present,
            )  # fmt: skip
            if refused and len(refused) == 1 and not chosen and paths and len(paths) == 1:
                first = refused[0]  # one file asked for: say it as the answer, not a list
                error = Conflict if first["code"] == "subtitle_exists" else BadRequest
                raise error(first["detail"], code=first["code"])
            errors.extend(refused)
        for path in chosen:
            try:
                if action == "subtitle":
                    job = await self._jobs.create(
                        file_path=path, target_lang=target, priority=MANUAL_PRIORITY,
                        quality_preset=quality_preset, channel="ui",
                    )  # fmt: skip
                    logger.info("library: job %s queued to subtitle %s", job.id, path)
                elif action == "translate":
                    job = await self._jobs.create(
                        file_path=path,
                        target_lang=target or "eng",
                        transcribe_or_translate=Task.TRANSLATE,
                        priority=MANUAL_PRIORITY,
                        quality_preset=quality_preset,
                        channel="ui",
                    )
                    logger.info("library: job %s queued to translate %s", job.id, path)
                else:
                    await self._redo(path, quality_preset=quality_preset)
                affected += 1
            except SubtitlerError as exc:
                errors.append({"path": path, "detail": exc.detail, "code": exc.code})
        if affected:
            logger.info("library %s: %d of %d file(s)", action, affected, len(chosen))
        return {"action": action, "matched": len(chosen), "affected": affected, "errors": errors}

    async def _check_files(
        self, paths: list[str], *, target: str | None, also_when_present: bool
    ) -> tuple[list[str], list[dict[str, str]]]:
        """The files a "subtitle now" may go ahead with, and why the others may not: a file the
        scan could not read (its reason), or one that already has a subtitle in the language
        (`subtitle_exists`: the page asks, then sends also_when_present)."""
        async with self._db.read() as session:
            rows = {
                r.path: r
                for r in await session.scalars(
                    select(LibraryFile).where(LibraryFile.path.in_(paths))
                )
            }
            ours = await _ours_by_path(session, paths)
        go: list[str] = []
        refused: list[dict[str, str]] = []
        for path in paths:
            row = rows.get(path)
            if row is None:
                go.append(path)
                continue
            name = row.name
            if row.verdict == "probe_failed":
                refused.append({
                    "path": path, "code": "media_unreadable",
                    "detail": f"{name} cannot be read as a video or audio file"
                    + (f" ({row.reason})" if row.reason else ""),
                })  # fmt: skip
                continue
            audio = split_langs(row.audio_langs) + split_langs(row.detected_langs)
            lang = target or (audio[0] if len(audio) == 1 else None)
            if lang and not also_when_present:
                has = {
                    "in the file": split_langs(row.embedded_langs),
                    "beside it": split_langs(row.external_langs),
                    "written by subtitler": sorted(ours.get(path, set())),
                }
                where = [k for k, langs in has.items() if lang in langs]
                if where:
                    refused.append({
                        "path": path, "code": "subtitle_exists", "language": lang,
                        "detail": f"{name} already has a subtitle in {display_name(lang)} "
                        f"({', '.join(where)}); confirm to write another one",
                    })  # fmt: skip
                    continue
            go.append(path)
        return go, refused

    async def ignore_folder(self, *, folder: str) -> dict[str, Any]:
        """Write `.subtitlerignore` in a folder under a library root: scans skip its tree."""
        target = await self._library_folder(folder)

        def write() -> str:
            if not target.is_dir():
                raise BadRequest(f"Not a folder: {folder}", code="not_a_directory")
            marker = target / IGNORE_MARKER
            marker.touch(exist_ok=True)
            return str(marker)

        marker = await asyncio.to_thread(write)
        inside = await self._select(None, LibraryFilter(folder=folder))
        await self._set_ignored(inside, ignored=True)
        logger.info("ignore marker written: %s", marker)
        return {"marker": marker}

    async def unignore_folder(self, *, folder: str) -> dict[str, Any]:
        """Stop ignoring a folder: remove its `.subtitlerignore` and the ignore flag of the files
        under it (the next scan decides them again)."""
        target = await self._library_folder(folder)

        def remove() -> str | None:
            marker = target / IGNORE_MARKER
            if not marker.is_file():
                return None
            marker.unlink()
            return str(marker)

        removed = await asyncio.to_thread(remove)
        inside = await self._select(None, LibraryFilter(folder=folder))
        changed = await self._set_ignored(inside, ignored=False)
        if removed:
            logger.info("ignore marker removed: %s", removed)
        return {"marker": removed, "files": changed}

    async def _library_folder(self, folder: str) -> Path:
        """The one path check (`..` collapsed, symlinks followed), and under `library_paths`."""
        allowed = await asyncio.to_thread(allowed_path, folder, self._settings.get)
        library = self._settings.get("library_paths") or []
        if allowed is None or not await asyncio.to_thread(in_library, allowed, library):
            raise BadRequest(f"Not a folder of the library: {folder}", code="outside_library")
        return Path(allowed)

    async def _select(self, paths: Sequence[str] | None, flt: LibraryFilter | None) -> list[str]:
        if paths:
            if len(paths) > MAX_SELECTION:
                raise BadRequest(f"At most {MAX_SELECTION} files at once", code="too_many")
            async with self._db.read() as session:
                known = set(
                    await session.scalars(
                        select(LibraryFile.path).where(LibraryFile.path.in_(list(paths)))
                    )
                )
            unknown = [p for p in paths if p not in known]
            if unknown:
                raise BadRequest(f"Not in the library index: {unknown[0]}", code="not_in_library")
            return list(dict.fromkeys(paths))
        if flt is None:
            raise BadRequest("Give paths or a filter", code="empty_selection")
        async with self._db.read() as session:
            chosen = await matching_paths(session, flt=flt, limit=MAX_SELECTION + 1)
        if len(chosen) > MAX_SELECTION:
            raise BadRequest(
                f"The filter matches more than {MAX_SELECTION} files; narrow it", code="too_many"
            )
        return chosen

    async def _set_ignored(self, paths: list[str], *, ignored: bool) -> int:
        async with self._db.write() as session:
            result = await session.execute(
                update(LibraryFile).where(LibraryFile.path.in_(paths)).values(ignored=ignored)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    async def _redo(self, path: str, *, quality_preset: str | None) -> None:
        """Redo the file's last job: through the jobs service's redo where it exists (branch
        `jobs`), else a retry of a failed job."""
        async with self._db.read() as session:
            job = await session.scalar(
                select(Job).where(Job.file_path == path).order_by(Job.created_at.desc()).limit(1)
            )
        if job is None:
            raise BadRequest("No job to redo for this file", code="no_job")
        redo = getattr(self._jobs, "redo", None)
        if callable(redo):
            overrides = {"quality_preset": quality_preset} if quality_preset else {}
            await redo(job.id, **overrides)
            return
        if job.status == JobStatus.FAILED:
            await self._jobs.queue.retry(job.id)
            return
        raise BadRequest(
            f"The last job is {job.status}; redo of a finished job needs the jobs redo API",
            code="redo_unavailable",
        )


def in_library(path: str, library: list[str]) -> bool:
    """Under `library_paths` itself (not only `allowed_paths`), symlinks followed."""
    return real_inside(path, [str(Path(root).resolve()) for root in library])


async def _ours_by_path(session: Any, paths: list[str]) -> dict[str, set[str]]:
    rows = await session.execute(
        select(WrittenSubtitle.media_path, WrittenSubtitle.language).where(
            WrittenSubtitle.media_path.in_(paths)
        )
    )
    out: dict[str, set[str]] = {}
    for path, lang in rows.all():
        if lang:
            out.setdefault(path, set()).add(lang)
    return out
