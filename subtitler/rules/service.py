"""Scan rules: CRUD over `scan_rules`, and a preview of what a rule would match in the library.

Bodies are validated here (not in the route signature) so every invalid rule is a 422 whose
`detail` is one sentence naming the field, whether pydantic or a rule validator caught it.
The preview walks the library through the scanner's probe cache and never queues anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from subtitler.db import Database
from subtitler.db.models import ScanRule, utcnow
from subtitler.errors import Conflict, NotFound, SubtitlerError, Unprocessable
from subtitler.library.verdict import decide
from subtitler.rules.engine import (
    ConditionResult,
    JobRequest,
    RuleEvaluation,
    UnknownLanguagePolicy,
)
from subtitler.rules.models import (
    RuleCreate,
    RuleOut,
    RuleUpdate,
    apply_update,
    row_from_create,
    rule_from_row,
)
from subtitler.scanner.library import MediaLibrary

logger = logging.getLogger(__name__)


class PreviewFile(BaseModel):
    file_path: str
    file_name: str
    conditions: list[ConditionResult]
    job: JobRequest | None  # what a scan would queue now (None: already produced)
    skipped_reason: str | None = None
    # Of all enabled rules (and this one), the one whose job a scan queues for this output
    # (one job per output file: the highest-priority rule wins).
    winning_rule_id: int | None = None
    winning_rule_name: str | None = None
    matched: bool = True  # False only with show=all: the rule does not match (see conditions)


class RulePreview(BaseModel):
    rule: dict[str, Any]
    paths_scanned: list[str]
    scanned_files: int
    total: int  # matching files (with show=all: every file listed)
    matched_files: int = 0  # files the rule matches
    would_queue: int = 0  # files a scan would queue this rule's job for (it wins the output)
    page: int
    page_size: int
    files: list[PreviewFile]


def validate_body(model: type[BaseModel], body: Any) -> Any:
    """`model.model_validate(body)` with every failure a 422 carrying a string `detail`."""
    if not isinstance(body, Mapping):
        raise Unprocessable("the request body must be a JSON object", code="invalid_rule")
    try:
        return model.model_validate(dict(body))
    except ValidationError as exc:
        raise unprocessable(exc) from None


def unprocessable(exc: ValidationError) -> SubtitlerError:
    """The first pydantic error as one sentence naming the field."""
    first = exc.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, SubtitlerError):
        return cause
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return Unprocessable(f"{where}: {first.get('msg', 'invalid')}", code="invalid_rule")


class RulesService:
    def __init__(self, db: Database, settings: Any, library: MediaLibrary) -> None:
        self._db = db
        self._settings = settings
        self._library = library

    async def list_rules(self, *, enabled_only: bool = False) -> list[RuleOut]:
        stmt = select(ScanRule).order_by(ScanRule.priority.desc(), ScanRule.id)
        if enabled_only:
            stmt = stmt.where(ScanRule.enabled.is_(True))
        async with self._db.read() as session:
            return [rule_from_row(row) for row in (await session.scalars(stmt)).all()]

    async def get(self, rule_id: int) -> RuleOut:
        async with self._db.read() as session:
            return rule_from_row(await self._row(session, rule_id))

    async def create(self, body: Any) -> RuleOut:
        rule = body if isinstance(body, RuleCreate) else validate_body(RuleCreate, body)
        row = row_from_create(rule)
        try:
            async with self._db.write() as session:
                session.add(row)
                await session.flush()
        except IntegrityError:
            raise self._name_taken(rule.name) from None
        logger.info("scan rule %s created: %s", row.id, row.name)
        return rule_from_row(row)

    async def create_many(self, bodies: list[RuleCreate]) -> list[RuleOut]:
        """Several rules in one transaction (the setup wizard): all or none."""
        names = [b.name for b in bodies]
        if len(set(names)) != len(names):
            raise Conflict("Two scan rules have the same name", code="rule_exists")
        rows = [row_from_create(b) for b in bodies]
        try:
            async with self._db.write() as session:
                session.add_all(rows)
                await session.flush()
        except IntegrityError:
            async with self._db.read() as session:
                taken = await session.scalar(select(ScanRule.name).where(ScanRule.name.in_(names)))
            raise self._name_taken(taken or names[0]) from None
        return [rule_from_row(row) for row in rows]

    async def update(self, rule_id: int, body: Any) -> RuleOut:
        patch = validate_body(RuleUpdate, body)
        try:
            async with self._db.write() as session:
                row = await self._row(session, rule_id)
                try:
                    apply_update(row, patch)
                except ValidationError as exc:
                    raise unprocessable(exc) from None
                row.updated_at = utcnow()
                await session.flush()
        except IntegrityError:
            raise self._name_taken(patch.name or "") from None
        return rule_from_row(row)

    async def delete(self, rule_id: int) -> None:
        async with self._db.write() as session:
            await session.delete(await self._row(session, rule_id))
        logger.info("scan rule %s deleted", rule_id)

    async def toggle(self, rule_id: int) -> RuleOut:
        async with self._db.write() as session:
            row = await self._row(session, rule_id)
            row.enabled = not row.enabled
            row.updated_at = utcnow()
        return rule_from_row(row)

    # --- preview ------------------------------------------------------------------------------
    async def preview_saved(
        self, rule_id: int, *, page: int, page_size: int, show_all: bool = False
    ) -> RulePreview:
        rule = await self.get(rule_id)
        return await self._preview(rule, rule.model_dump(mode="json"), page, page_size, show_all)

    async def preview_unsaved(
        self, body: Any, *, page: int, page_size: int, show_all: bool = False
    ) -> RulePreview:
        if isinstance(body, Mapping) and not body.get("name"):
            body = {**body, "name": "(preview)"}
        rule = validate_body(RuleCreate, body)
        return await self._preview(rule, rule.model_dump(mode="json"), page, page_size, show_all)

    async def _preview(
        self,
        rule: RuleCreate | RuleOut,
        shown: dict[str, Any],
        page: int,
        page_size: int,
        show_all: bool = False,
    ) -> RulePreview:
        roots = await self._library.resolve_roots(None)
        inv = await self._library.collect(roots)
        history = await self._library.history(roots=roots)
        policy = UnknownLanguagePolicy.from_settings(self._settings)
        this_id = getattr(rule, "id", None)
        competing = [  # names are unique: an edited rule's saved self does not compete
            r
            for r in await self.list_rules(enabled_only=True)
            if r.id != this_id and r.name != rule.name
        ]
        mine = rule.model_copy(update={"enabled": True})
        everyone = [*competing, mine]
        matches: list[PreviewFile] = []
        matched_files = would_queue = 0
        for media in sorted(inv.media, key=lambda m: m.path):
            # exactly as a scan decides (subtitler.library.verdict): every enabled rule, the
            # detected languages, what subtitler already wrote; this rule's line picked out
            state = history.state(media.path)
            verdict = decide(everyone, media, state, policy)
            own = next(e for e in verdict.evaluations if e.rule_name == mine.name
                       and e.rule_id == getattr(mine, "id", None))  # fmt: skip
            matched_files += own.matched
            winner = _winner(own, verdict.evaluations)
            if own.job is not None and winner is own:
                would_queue += 1
            if own.matched or show_all:
                found = PreviewFile(
                    file_path=media.path,
                    file_name=media.file_name,
                    conditions=own.conditions,
                    job=own.job if winner is own else None,
                    skipped_reason=own.skipped_reason,
                    matched=own.matched,
                )
                if winner is not None:
                    found.winning_rule_id, found.winning_rule_name = (
                        winner.rule_id,
                        winner.rule_name,
                    )
                matches.append(found)
        start = (page - 1) * page_size
        return RulePreview(
            rule=shown,
            paths_scanned=roots,
            scanned_files=len(inv.media) + len(inv.failures),
            total=len(matches),
            matched_files=matched_files,
            would_queue=would_queue,
            page=page,
            page_size=page_size,
            files=matches[start : start + page_size],
        )

    # --- internals ----------------------------------------------------------------------------
    @staticmethod
    async def _row(session: Any, rule_id: int) -> ScanRule:
        row = await session.get(ScanRule, rule_id)
        if row is None:
            raise NotFound(f"Scan rule {rule_id} not found", code="rule_not_found")
        return row

    @staticmethod
    def _name_taken(name: str) -> Conflict:
        return Conflict(f"Scan rule with name '{name}' already exists", code="rule_exists")


def _winner(own: RuleEvaluation, evaluations: Sequence[RuleEvaluation]) -> RuleEvaluation | None:
    """The rule whose job a scan queues for the output `own` asks for (one job per output file:
    the highest-priority rule wins); None when `own` matches nothing or wants no job."""
    if not own.matched:
        return None
    if own.job is not None:
        return own
    reason = own.skipped_reason or ""
    for other in evaluations:
        if other.job is not None and reason.endswith(f"rule {other.rule_name!r}"):
            return other
    return None
