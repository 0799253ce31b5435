"""Value types of settings: parse a user's value, and write it back as the canonical string."""

from __future__ import annotations

import json
from typing import Any, Literal

ValueType = Literal["string", "integer", "float", "boolean", "json", "list"]
VALUE_TYPES: tuple[str, ...] = ("string", "integer", "float", "boolean", "json", "list")
CATEGORIES: tuple[str, ...] = (
    "general",
    "workers",
    "transcription",
    "subtitles",
    "scanner",
    "bazarr",
    "translation",
    "integrations",
)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_value(value_type: str, raw: Any) -> Any:
    """Turn a raw value (the API sends strings, but JSON scalars are accepted) into Python.

    Raises ValueError with a message fit for a user.
    """
    if value_type == "string":
        if isinstance(raw, (dict, list)):
            raise ValueError("expected a string")
        return "" if raw is None else str(raw)
    if value_type == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"expected true or false, got {raw!r}")
    if value_type == "integer":
        if isinstance(raw, bool):
            raise ValueError("expected an integer")
        try:
            number = float(str(raw).strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {raw!r}") from None
        if not number.is_integer():
            raise ValueError(f"expected an integer, got {raw!r}")
        return int(number)
    if value_type == "float":
        if isinstance(raw, bool):
            raise ValueError("expected a number")
        try:
            number = float(str(raw).strip())
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("expected a finite number")
        return number
    if value_type == "json":
        if isinstance(raw, str):
            try:
                return json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(f"expected JSON: {exc.msg}") from None
        return raw
    if value_type == "list":
        return _parse_list(raw)
    raise ValueError(f"unknown value type {value_type!r}")


def _parse_list(raw: Any) -> list[str]:
    """A list of strings: a JSON array, or a comma-separated string."""
    if raw is None:
        return []
    if isinstance(raw, list):
        items = raw
    else:
        text = str(raw).strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"expected a JSON array: {exc.msg}") from None
            if not isinstance(items, list):
                raise ValueError("expected a JSON array")
        else:
            items = [part for part in text.split(",")]
    out = []
    for item in items:
        if isinstance(item, (dict, list)):
            raise ValueError("list items must be strings")
        cleaned = str(item).strip()
        if cleaned:
            out.append(cleaned)
    return out


def dump_value(value_type: str, value: Any) -> str:
    """The canonical stored string of a parsed value."""
    if value_type == "boolean":
        return "true" if value else "false"
    if value_type in ("json", "list"):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
