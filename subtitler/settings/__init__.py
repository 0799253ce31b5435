"""Runtime settings: a typed registry of every setting and a DB-backed service with a cache."""

from subtitler.settings.registry import REGISTRY, SettingSpec
from subtitler.settings.service import SettingsService

__all__ = ["REGISTRY", "SettingSpec", "SettingsService"]
