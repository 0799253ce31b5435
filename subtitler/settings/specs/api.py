"""Jobs semantics and the integrator API: tokens, idempotency, automatic retries (issue 12)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

SPECS: list[SettingSpec] = []
