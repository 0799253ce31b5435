"""Scan rule schemas exactly as the spec, validated, and converters to and from the `ScanRule` row.

Languages are stored as ISO 639-2/T (`deu` for `ger`/`de`/`German`); an unknown code is a 422
naming the field. Comma-separated fields are stored normalised: `audio_language_not="eng,fra"`,
`file_extension=".mkv,.mp4"`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from subtitler.db.models import ScanRule
from subtitler.errors import Unprocessable
from subtitler.media.languages import require_language

ActionType = Literal["transcribe", "translate", "translate_subtitle", "forced"]
QualityPreset = Literal["fast", "balanced", "best"]
# translate_subtitle: translate the file's existing text subtitle (no listening); falls back to
# transcribing and translating when it has none (subtitler.translation.planning).
# forced: a forced subtitle in the target language, cues for the foreign passages only (issue 22)
ACTION_TYPES: tuple[str, ...] = ("transcribe", "translate", "translate_subtitle", "forced")
QUALITY_PRESETS: tuple[str, ...] = ("fast", "balanced", "best")
CONDITION_FIELDS: tuple[str, ...] = (
    "audio_language_is",
    "audio_language_not",
    "audio_track_count_min",
    "has_embedded_subtitle_lang",
    "missing_embedded_subtitle_lang",
    "missing_external_subtitle_lang",
    "file_extension",
)
ACTION_FIELDS: tuple[str, ...] = (
    "action_type",
    "target_language",
    "quality_preset",
    "job_priority",
    "diarize",
)
_LANGUAGE_FIELDS = {
    "audio_language_is",
    "has_embedded_subtitle_lang",
    "missing_embedded_subtitle_lang",
    "missing_external_subtitle_lang",
}


def _blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class RuleConditions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audio_language_is: str | None = None
    audio_language_not: str | None = None
    audio_track_count_min: int | None = Field(default=None, ge=0)
    has_embedded_subtitle_lang: str | None = None
    missing_embedded_subtitle_lang: str | None = None
    missing_external_subtitle_lang: str | None = None
    file_extension: str | None = None

    @field_validator(*_LANGUAGE_FIELDS, mode="before")
    @classmethod
    def _language(cls, value: Any, info: Any) -> str | None:
        value = _blank(value)
        return None if value is None else require_language(str(value), field=info.field_name)

    @field_validator("audio_language_not", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> str | None:
        value = _blank(value)
        if value is None:
            return None
        items = value if isinstance(value, list) else _split(str(value))
        codes = [require_language(str(item), field="audio_language_not") for item in items]
        return ",".join(dict.fromkeys(codes)) or None

    @field_validator("file_extension", mode="before")
    @classmethod
    def _extensions(cls, value: Any) -> str | None:
        value = _blank(value)
        if value is None:
            return None
        items = value if isinstance(value, list) else _split(str(value))
        exts = ["." + str(item).strip().lstrip(".").lower() for item in items]
        for ext in exts:
            if len(ext) < 2 or any(c in ext[1:] for c in "./\\ "):
                raise Unprocessable(f"file_extension: invalid extension {ext!r}")
        return ",".join(dict.fromkeys(exts)) or None

    @property
    def audio_languages_not(self) -> list[str]:
        return _split(self.audio_language_not or "")

    @property
    def file_extensions(self) -> list[str]:
        return _split(self.file_extension or "")


class RuleAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action_type: str = "transcribe"
    target_language: str | None = None
    quality_preset: str = "balanced"
    job_priority: int = 0
    diarize: bool | None = None  # speakers (issue 24); None: the diarization_enabled setting

    @field_validator("action_type", mode="before")
    @classmethod
    def _action_type(cls, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in ACTION_TYPES:
            raise Unprocessable(
                f"action_type: must be one of {', '.join(ACTION_TYPES)}; got {value!r}",
                code="unknown_action",
            )
        return text

    @field_validator("quality_preset", mode="before")
    @classmethod
    def _preset(cls, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in QUALITY_PRESETS:
            raise Unprocessable(
                f"quality_preset: must be one of {', '.join(QUALITY_PRESETS)}; got {value!r}",
                code="unknown_quality_preset",
            )
        return text

    @field_validator("target_language", mode="before")
    @classmethod
    def _target(cls, value: Any) -> str | None:
        value = _blank(value)
        return None if value is None else require_language(str(value), field="target_language")

    @model_validator(mode="after")
    def _translate_needs_target(self) -> RuleAction:
        if self.action_type != "transcribe" and self.target_language is None:
            raise Unprocessable(
                "target_language: a translate action needs a target language",
                code="missing_target_language",
            )
        return self


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    enabled: bool = True
    priority: int = 0
    conditions: RuleConditions = Field(default_factory=RuleConditions)
    action: RuleAction = Field(default_factory=RuleAction)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise Unprocessable("name: must not be blank")
        return value


class RuleUpdate(BaseModel):
    """A partial update: only the fields sent change; `conditions`/`action` merge field by field."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=255)
    enabled: bool | None = None
    priority: int | None = None
    conditions: dict[str, Any] | None = None
    action: dict[str, Any] | None = None

    @field_validator("conditions", "action")
    @classmethod
    def _known_keys(cls, value: dict[str, Any] | None, info: Any) -> dict[str, Any] | None:
        allowed = CONDITION_FIELDS if info.field_name == "conditions" else ACTION_FIELDS
        unknown = sorted(set(value or {}) - set(allowed))
        if unknown:
            raise Unprocessable(f"{info.field_name}: unknown field(s) {', '.join(unknown)}")
        return value


class RuleOut(BaseModel):
    id: int
    name: str
    enabled: bool
    priority: int
    conditions: RuleConditions
    action: RuleAction
    created_at: datetime
    updated_at: datetime | None = None

    @field_serializer("created_at", "updated_at")
    def _aware(self, value: datetime | None) -> str | None:
        """Stored timestamps are naive UTC: say so (ISO 8601 with +00:00, like jobs)."""
        if value is None:
            return None
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).isoformat()


def rule_from_row(row: ScanRule) -> RuleOut:
    return RuleOut(
        id=row.id,
        name=row.name,
        enabled=row.enabled,
        priority=row.priority,
        conditions=RuleConditions.model_construct(**{f: getattr(row, f) for f in CONDITION_FIELDS}),
        action=RuleAction.model_construct(**{f: getattr(row, f) for f in ACTION_FIELDS}),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def row_from_create(body: RuleCreate) -> ScanRule:
    row = ScanRule(name=body.name, enabled=body.enabled, priority=body.priority)
    _write(row, body.conditions, body.action)
    return row


def apply_update(row: ScanRule, body: RuleUpdate) -> ScanRule:
    """Validate the merged rule (a partial body can still make it invalid) and write it to `row`."""
    current = rule_from_row(row)
    conditions = current.conditions.model_dump()
    conditions.update(body.conditions or {})
    action = current.action.model_dump()
    action.update(body.action or {})
    merged = RuleCreate(
        name=body.name if body.name is not None else current.name,
        enabled=body.enabled if body.enabled is not None else current.enabled,
        priority=body.priority if body.priority is not None else current.priority,
        conditions=RuleConditions.model_validate(conditions),
        action=RuleAction.model_validate(action),
    )
    row.name, row.enabled, row.priority = merged.name, merged.enabled, merged.priority
    _write(row, merged.conditions, merged.action)
    return row


def _write(row: ScanRule, conditions: RuleConditions, action: RuleAction) -> None:
    for name in CONDITION_FIELDS:
        setattr(row, name, getattr(conditions, name))
    for name in ACTION_FIELDS:
        setattr(row, name, getattr(action, name))
