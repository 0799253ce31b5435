"""Library, History, System and Logs screens (issue 13)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

SPECS: list[SettingSpec] = []
