"""Host/Origin checks, proxies, body/upload/disk limits, worker cap, backups (issue 14)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

SPECS: list[SettingSpec] = []
