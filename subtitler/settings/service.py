"""Settings in the database, with a cache of typed values for the code that reads them.

The daemon is the only writer on its node, so the cache is refreshed on every write it makes;
`reload()` re-reads the table (used at start-up).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select

from subtitler.db import Database
from subtitler.db.models import Setting, utcnow
from subtitler.errors import BadRequest, Conflict, NotFound
from subtitler.events import EventBus
from subtitler.settings.registry import REGISTRY, SettingSpec
from subtitler.settings.types import CATEGORIES, VALUE_TYPES, dump_value, parse_value

logger = logging.getLogger(__name__)

Listener = Callable[[str, Any], None]


class InvalidSetting(BadRequest):
    code = "invalid_setting"


def generate_api_key() -> str:
    return secrets.token_hex(16)


class SettingsService:
    def __init__(self, db: Database, bus: EventBus | None = None) -> None:
        self._db = db
        self._bus = bus
        self._values: dict[str, Any] = {spec.key: spec.default for spec in REGISTRY.values()}
        self._types: dict[str, str] = {spec.key: spec.value_type for spec in REGISTRY.values()}
        self._listeners: list[tuple[frozenset[str], Listener]] = []

    # --- typed reads for the daemon's own code -------------------------------------------
    def get(self, key: str) -> Any:
        if key not in self._values:
            raise KeyError(key)
        return self._values[key]

    def on_change(self, keys: Iterable[str], listener: Listener) -> None:
        """Call `listener(key, value)` after any of `keys` changes (lets parts re-read live)."""
        self._listeners.append((frozenset(keys), listener))

    # --- start-up -------------------------------------------------------------------------
    async def init_defaults(self) -> int:
        """Insert every built-in setting that is missing. Never touches an existing value."""
        created = 0
        async with self._db.write() as session:
            existing = {row.key: row for row in (await session.scalars(select(Setting))).all()}
            for spec in REGISTRY.values():
                row = existing.get(spec.key)
                if row is None:
                    session.add(
                        Setting(
                            key=spec.key,
                            value=spec.default_text,
                            description=spec.description,
                            category=spec.category,
                            value_type=spec.value_type,
                            is_builtin=True,
                        )
                    )
                    created += 1
                elif (row.description, row.category, row.value_type) != (
                    spec.description,
                    spec.category,
                    spec.value_type,
                ) or not row.is_builtin:
                    # Keep the user's value; refresh what the registry owns.
                    row.description = spec.description
                    row.category = spec.category
                    row.value_type = spec.value_type
                    row.is_builtin = True
        await self.reload()
        return created

    async def reload(self) -> None:
        async with self._db.read() as session:
            rows = (await session.scalars(select(Setting))).all()
        for row in rows:
            self._types[row.key] = row.value_type
            self._values[row.key] = self._decode(row)

    async def refresh(self, keys: list[str]) -> None:
        """Another node changed `keys` (subtitler.cluster): re-read them and tell this node's
        listeners, without publishing the change again."""
        await self.reload()
        for key in keys:
            for watched, listener in self._listeners:
                if key in watched:
                    try:
                        listener(key, self._values.get(key))
                    except Exception:
                        logger.exception("settings listener for %s failed", key)

    async def ensure_api_key(self) -> str:
        key = self.get("api_key")
        if key:
            return str(key)
        new_key = generate_api_key()
        await self.update("api_key", new_key)
        logger.info("generated a new API key (see `subtitler api-key`)")
        return new_key

    # --- the API's operations -------------------------------------------------------------
    async def list_rows(self, category: str | None = None) -> list[Setting]:
        if category is not None and category not in CATEGORIES:
            raise BadRequest(
                f"unknown category {category!r}; one of {', '.join(CATEGORIES)}",
                code="unknown_category",
            )
        stmt = select(Setting).order_by(Setting.category, Setting.key)
        if category is not None:
            stmt = stmt.where(Setting.category == category)
        async with self._db.read() as session:
            return list((await session.scalars(stmt)).all())

    async def get_row(self, key: str) -> Setting:
        async with self._db.read() as session:
            row = await session.scalar(select(Setting).where(Setting.key == key))
        if row is None:
            raise NotFound(f"Setting '{key}' not found", code="setting_not_found")
        return row

    async def update(self, key: str, raw: Any) -> Setting:
        return (await self.bulk_update({key: raw}))[0]

    async def bulk_update(self, values: Mapping[str, Any]) -> list[Setting]:
        """Validate everything first; write all or nothing."""
        if not values:
            raise BadRequest("no settings given", code="empty_update")
        async with self._db.write() as session:
            rows = {
                row.key: row
                for row in (
                    await session.scalars(select(Setting).where(Setting.key.in_(list(values))))
                ).all()
            }
            missing = [key for key in values if key not in rows]
            if missing:
                raise NotFound(
                    f"Setting '{missing[0]}' not found"
                    + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                    code="setting_not_found",
                )
            parsed = {key: self._validate(rows[key], raw) for key, raw in values.items()}
            now = utcnow()
            for key, value in parsed.items():
                row = rows[key]
                row.value = dump_value(row.value_type, value)
                row.is_user_set = True
                row.updated_at = now
        changed = []
        for key, value in parsed.items():
            old = self._values.get(key)
            self._values[key] = value
            if old != value:
                changed.append(key)
        self._notify(changed)
        return [rows[key] for key in values]

    async def create(
        self,
        *,
        key: str,
        value: Any,
        description: str | None,
        category: str,
        value_type: str,
    ) -> Setting:
        if category not in CATEGORIES:
            raise BadRequest(
                f"unknown category {category!r}; one of {', '.join(CATEGORIES)}",
                code="unknown_category",
            )
        if value_type not in VALUE_TYPES:
            raise BadRequest(
                f"unknown value_type {value_type!r}; one of {', '.join(VALUE_TYPES)}",
                code="unknown_value_type",
            )
        if key in REGISTRY:
            raise Conflict(f"Setting '{key}' already exists (built-in)", code="setting_exists")
        try:
            parsed = parse_value(value_type, value)
        except ValueError as exc:
            raise InvalidSetting(f"{key}: {exc}") from None
        async with self._db.write() as session:
            if await session.scalar(select(Setting.id).where(Setting.key == key)) is not None:
                raise Conflict(f"Setting '{key}' already exists", code="setting_exists")
            row = Setting(
                key=key,
                value=dump_value(value_type, parsed),
                description=description,
                category=category,
                value_type=value_type,
                is_builtin=False,
                is_user_set=True,
            )
            session.add(row)
        self._values[key] = parsed
        self._types[key] = value_type
        self._notify([key])
        return row

    async def delete(self, key: str) -> None:
        async with self._db.write() as session:
            row = await session.scalar(select(Setting).where(Setting.key == key))
            if row is None:
                raise NotFound(f"Setting '{key}' not found", code="setting_not_found")
            if row.is_builtin or key in REGISTRY:
                raise BadRequest(
                    f"Setting '{key}' is built in and cannot be deleted; "
                    "PUT its default value to reset it",
                    code="builtin_setting",
                )
            await session.delete(row)
        self._values.pop(key, None)
        self._types.pop(key, None)

    # --- internals ------------------------------------------------------------------------
    def _validate(self, row: Setting, raw: Any) -> Any:
        spec: SettingSpec | None = REGISTRY.get(row.key)
        if row.key == "api_key" and not str(raw or "").strip():
            raise InvalidSetting(  # the default "" only means "generate one at start"
                "api_key: must not be empty (it would lock every client out); "
                "`subtitler api-key --regenerate` makes a new one"
            )
        try:
            if spec is not None:
                return spec.parse(raw)
            return parse_value(row.value_type, raw)
        except ValueError as exc:
            raise InvalidSetting(f"{row.key}: {exc}") from None

    def _decode(self, row: Setting) -> Any:
        spec = REGISTRY.get(row.key)
        try:
            if spec is not None:
                return spec.parse(row.value)
            return parse_value(row.value_type, row.value)
        except ValueError:
            logger.warning("setting %s holds an invalid value; using its default", row.key)
            return spec.default if spec else row.value

    def _notify(self, keys: list[str]) -> None:
        for key in keys:
            value = self._values.get(key)
            if self._bus is not None:
                spec = REGISTRY.get(key)
                shown = "***" if key == "api_key" or (spec is not None and spec.secret) else value
                self._bus.publish("setting_updated", {"key": key, "value": shown})
            for watched, listener in self._listeners:
                if key in watched:
                    try:
                        listener(key, value)
                    except Exception:
                        logger.exception("settings listener for %s failed", key)
