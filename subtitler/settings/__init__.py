"""Runtime settings: a typed registry of every setting and a DB-backed service with a cache.

SettingsService loads on first use: worker processes read the registry's specs and never the
database, so they do not import SQLAlchemy for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from subtitler.settings.registry import REGISTRY, SettingSpec

if TYPE_CHECKING:
    from subtitler.settings.service import SettingsService

__all__ = ["REGISTRY", "SettingSpec", "SettingsService"]


def __getattr__(name: str) -> Any:
    if name == "SettingsService":
        from subtitler.settings.service import SettingsService

        return SettingsService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
