"""The Library page's query: filters, search, sort and one page of `library_files`, then the
page's last jobs and our subtitles in two more queries (never per row)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select

from subtitler.db.models import Job, WrittenSubtitle
from subtitler.db.models_library import LibraryFile
from subtitler.errors import BadRequest
from subtitler.jobs.schemas import as_utc_iso
from subtitler.jobs.states import FORCED, JobStatus
from subtitler.media.languages import parse_language
from subtitler.subtitles.naming import is_forced_name

Status = Literal["failed", "skipped", "ours", "wanted", "done", "ignored", "foreign_no_forced"]
SORTS = {
    "name": (LibraryFile.name,),
    "folder": (LibraryFile.folder, LibraryFile.name),
    "size": (LibraryFile.size,),
    "duration": (LibraryFile.duration_seconds,),
    "verdict": (LibraryFile.verdict, LibraryFile.name),
    "modified": (LibraryFile.mtime_ns,),
}
_LIVE = (JobStatus.QUEUED, JobStatus.PROCESSING, JobStatus.COMPLETED)
_SKIPPED = ("no_match", "no_rules", "probe_failed")
LANGUAGE_SKIP = "rule_language_mismatch"  # a job's "failure" that is the rule's skip


@dataclass(frozen=True, kw_only=True)
class LibraryFilter:
    q: str | None = None
    folder: str | None = None
    missing: str | None = None  # a language with no subtitle of any kind
    status: Status | None = None

    def where(self) -> list[ColumnElement[bool]]:
        parts: list[ColumnElement[bool]] = []
        if self.q:
            like = f"%{_escape(self.q.strip())}%"
            parts.append(
                or_(
                    LibraryFile.name.ilike(like, escape="\\"),
                    LibraryFile.folder.ilike(like, escape="\\"),
                )
            )
        if self.folder:
            base = self.folder.rstrip("/")
            parts.append(or_(LibraryFile.folder == base, LibraryFile.folder.startswith(base + "/")))
        if self.missing:
            code = parse_language(self.missing)
            if code is None:
                raise BadRequest(f"Unknown language: {self.missing}", code="invalid_language")
            token = f"%,{code},%"
            parts.append(
                and_(
                    not_(LibraryFile.embedded_langs.like(token)),
                    not_(LibraryFile.external_langs.like(token)),
                    not_(
                        exists().where(
                            WrittenSubtitle.media_path == LibraryFile.path,
                            WrittenSubtitle.language == code,
                        )
                    ),
                )
            )
        if self.status:
            parts.append(_status_where(self.status))
        return parts


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _status_where(status: str) -> ColumnElement[bool]:
    job_of_file = Job.file_path == LibraryFile.path
    if status == "failed":  # the file's jobs failed and none is queued, running or done
        return and_(  # (audio detected in another language than the rule wants: a skip)
            exists().where(
                job_of_file,
                Job.status == JobStatus.FAILED,
                or_(Job.error_code.is_(None), Job.error_code != LANGUAGE_SKIP),
            ),
            not_(exists().where(job_of_file, Job.status.in_(_LIVE))),
        )
    if status == "skipped":
        return or_(LibraryFile.verdict.in_(_SKIPPED), LibraryFile.ignored.is_(True))
    if status == "ours":
        return exists().where(WrittenSubtitle.media_path == LibraryFile.path)
    if status == "ignored":
        return LibraryFile.ignored.is_(True)
    if status == "foreign_no_forced":  # a forced job found foreign passages; no forced file now
        return and_(
            exists().where(
                job_of_file,
                Job.variant == FORCED,
                Job.status == JobStatus.COMPLETED,
                Job.forced_passages > 0,
            ),
            not_(
                exists().where(
                    WrittenSubtitle.media_path == LibraryFile.path,
                    WrittenSubtitle.path.like("%.forced.%"),
                )
            ),
        )
    if status in ("wanted", "done"):
        return and_(LibraryFile.verdict == status, LibraryFile.ignored.is_(False))
    raise BadRequest(f"Unknown status filter: {status}", code="invalid_filter")


def split_langs(text: str | None) -> list[str]:
    return [p for p in (text or "").split(",") if p]


async def query_page(
    session: Any,
    *,
    flt: LibraryFilter,
    sort: str,
    order: str,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}", code="invalid_sort")
    where = flt.where()
    columns = SORTS[sort]
    ordering: list[Any] = [c.desc() if order == "desc" else c.asc() for c in columns]
    ordering.append(LibraryFile.path.desc() if order == "desc" else LibraryFile.path.asc())
    total = await session.scalar(select(func.count()).select_from(LibraryFile).where(*where))
    rows = (
        await session.scalars(
            select(LibraryFile)
            .where(*where)
            .order_by(*ordering)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    ).all()
    paths = [r.path for r in rows]
    last_jobs = await _last_jobs(session, paths)
    ours = await _ours(session, paths)
    return {
        "items": [_item(r, last_jobs.get(r.path), ours.get(r.path, [])) for r in rows],
        "total": int(total or 0),
        "page": page,
        "page_size": page_size,
    }


async def _last_jobs(session: Any, paths: list[str]) -> dict[str, dict[str, Any]]:
    if not paths:
        return {}
    rows = (
        await session.execute(
            select(
                Job.id,
                Job.file_path,
                Job.status,
                Job.progress,
                Job.error,
                Job.error_code,
                Job.target_lang,
                Job.transcribe_or_translate,
                Job.created_at,
            )
            .where(Job.file_path.in_(paths))
            .order_by(Job.created_at)
        )
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for job_id, path, status, progress, error, code, target, task, created in rows:
        out[path] = {  # ordered by creation: the last one wins
            "id": job_id,
            "status": status,
            "progress": progress,
            "error": error,
            "error_code": code,
            # failed only because the audio is not the rule's language: a skip, not a failure
            "skipped": status == JobStatus.FAILED and code == LANGUAGE_SKIP,
            "target_lang": target,
            "task": task,
            "created_at": as_utc_iso(created),
        }
    return out


async def _ours(session: Any, paths: list[str]) -> dict[str, list[str]]:
    if not paths:
        return {}
    rows = (
        await session.execute(
            select(
                WrittenSubtitle.media_path, WrittenSubtitle.language, WrittenSubtitle.path
            ).where(WrittenSubtitle.media_path.in_(paths))
        )
    ).all()
    out: dict[str, list[str]] = {}
    for path, language, sub_path in rows:
        langs = out.setdefault(path, [])
        # a forced subtitle (Film.eng.forced.srt) is listed as "forced:eng" (issue 22)
        label = f"{FORCED}:{language}" if language and is_forced_name(sub_path) else language
        if label and label not in langs:
            langs.append(label)
    return out


def _item(row: LibraryFile, last_job: dict[str, Any] | None, labels: list[str]) -> dict[str, Any]:
    ours = [lang for lang in labels if not lang.startswith(f"{FORCED}:")]
    forced = sorted(lang.split(":", 1)[1] for lang in labels if lang.startswith(f"{FORCED}:"))
    external = [lang for lang in split_langs(row.external_langs) if lang not in ours]
    return {
        "path": row.path,
        "name": row.name,
        "folder": row.folder,
        "series": row.series,
        "season": row.season,
        "size": row.size,
        "duration_seconds": row.duration_seconds,
        "audio_languages": split_langs(row.audio_langs),
        "detected_languages": split_langs(row.detected_langs),
        "subtitles": {
            "embedded": split_langs(row.embedded_langs),
            "external": external,
            "ours": sorted(ours),
            "forced": forced,  # our forced subtitles' languages (issue 22)
        },
        "verdict": "ignored" if row.ignored else row.verdict,
        "reason": row.reason,
        "rule_name": row.rule_name,
        "ignored": row.ignored,
        "last_job": last_job,
        "indexed_at": as_utc_iso(row.indexed_at),
    }


async def matching_paths(session: Any, *, flt: LibraryFilter, limit: int) -> list[str]:
    rows = await session.scalars(
        select(LibraryFile.path).where(*flt.where()).order_by(LibraryFile.path).limit(limit)
    )
    return list(rows)
