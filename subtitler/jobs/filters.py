"""Filters and sort orders of job lists (GET /api/jobs) and bulk actions by filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, or_

from subtitler.db.models import Job

S = TypeVar("S", bound=Select)  # type: ignore[type-arg, unused-ignore]

SORTS = {
    "created_at": Job.created_at,
    "priority": Job.priority,
    "file_name": Job.file_name,
    "status": Job.status,
    "progress": Job.progress,
}


@dataclass(frozen=True)
class JobFilter:
    status: str | None = None
    channel: str | None = None
    q: str | None = None  # a substring of the file path (or name)
    language: str | None = None  # source or target
    error_code: str | None = None

    @property
    def only_status(self) -> bool:
        """Nothing but a status: the cached counts know the total."""
        return not (self.channel or self.q or self.language or self.error_code)

    def apply(self, stmt: S) -> S:
        if self.status:
            stmt = stmt.where(Job.status == self.status)
        if self.channel:
            stmt = stmt.where(Job.channel == self.channel)
        if self.error_code:
            stmt = stmt.where(Job.error_code == self.error_code)
        if self.language:
            stmt = stmt.where(
                or_(Job.source_lang == self.language, Job.target_lang == self.language)
            )
        if self.q:
            pattern = (
                "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            stmt = stmt.where(Job.file_path.ilike(pattern, escape="\\"))
        return stmt


def order_by(sort: str, order: str) -> list[Any]:
    column = SORTS[sort]
    first = column.asc() if order == "asc" else column.desc()
    tie = Job.id.asc() if order == "asc" else Job.id.desc()
    if sort == "created_at":
        return [first, tie]
    created = Job.created_at.asc() if order == "asc" else Job.created_at.desc()
    return [first, created, tie]
