"""The Settings page for a household: the everyday settings in front, everything about network,
security, limits and the database behind Advanced, and every setting a person sees has an English
label and a help text written for a person (no module names, HTTP codes or API paths)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from subtitler.settings.everyday import EVERYDAY
from subtitler.settings.registry import REGISTRY

LOCALE = Path(__file__).parents[2] / "frontend/src/i18n/locales/en/settings.json"
TECHNICAL = re.compile(
    r"subtitler\.\w|/api/|\bHTTP\b|(?<![-\w])[2-5]\d\d(?![-\w])|X-[A-Z]|PRAGMA"
    r"|\w+_\w+_\w+|Read by|\(\w+=\w+\)"
)


def _shown() -> list[str]:
    return [key for key, spec in REGISTRY.items() if not spec.internal]


def test_every_shown_setting_has_a_label_and_a_help_for_a_person() -> None:
    text = json.loads(LOCALE.read_text(encoding="utf-8"))
    missing = [k for k in _shown() if k not in text["label"] or k not in text["help"]]
    assert not missing, f"settings without an English label or help: {missing}"
    technical = {k: text["help"][k] for k in _shown() if TECHNICAL.search(text["help"][k])}
    assert not technical, f"help texts that read like code: {technical}"


def test_everyday_settings_are_in_front_and_the_rest_behind_advanced() -> None:
    assert set(REGISTRY) >= EVERYDAY, EVERYDAY - set(REGISTRY)
    front = {k for k in _shown() if not REGISTRY[k].advanced}
    assert front == EVERYDAY
    for key in (
        "allowed_hosts",
        "allowed_origins",
        "proxy_header",
        "trusted_proxies",
        "max_json_body_kib",
        "max_upload_mib",
        "min_free_disk_mib",
        "db_check_minutes",
        "db_backup_hours",
        "cluster_lease_seconds",
    ):
        assert REGISTRY[key].advanced, key
    for key in ("library_paths", "preferred_audio_languages", "default_quality_preset",
                "worker_cpu_count", "scanner_schedule_enabled", "path_mappings"):  # fmt: skip
        assert not REGISTRY[key].advanced, key
    # the page does not open on network settings: the first front setting of "general" is
    # who needs the API key
    assert len(front) < len(_shown()) / 2
