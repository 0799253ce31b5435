"""Translation providers and the translate stage (issue 9)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

SPECS: list[SettingSpec] = []
