"""Write-only settings (SettingSpec.secret): the settings API shows a mask, never the value,
and a mask sent back (a form saved unchanged) leaves the stored secret alone."""

from __future__ import annotations

from typing import Any

from subtitler.api.schemas import SettingOut
from subtitler.db.models import Setting
from subtitler.settings import REGISTRY

MASK = "********"


def is_secret(key: str) -> bool:
    spec = REGISTRY.get(key)
    return spec is not None and spec.secret


def public(row: Setting) -> SettingOut:
    out = SettingOut.model_validate(row)
    if is_secret(row.key):
        out.secret = True
        out.value = MASK if out.value else out.value
    return out


def is_mask(key: str, value: Any) -> bool:
    """A secret's mask sent back unchanged."""
    return is_secret(key) and value == MASK


def without_masks(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not is_mask(k, v)}
