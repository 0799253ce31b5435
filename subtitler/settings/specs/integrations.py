"""Inbound webhooks, media-server refresh and notifications (issue 10)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

SPECS: list[SettingSpec] = []
