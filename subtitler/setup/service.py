"""Setup wizard: standalone (library, rules, workers, schedule) or Bazarr mode, or skip.

Everything it stores is ordinary settings and scan rules, so the parts that read them pick the
values up the same way as when a user edits them later.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select

from subtitler.db import Database
from subtitler.db.models import ScanRule
from subtitler.errors import BadRequest, Conflict
from subtitler.media.languages import parse_language
from subtitler.settings import REGISTRY, SettingsService
from subtitler.settings.specs.transcription import QUALITY_PRESETS

BAZARR_USERNAME = "bazarr"
_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


class SetupService:
    def __init__(self, db: Database, settings: SettingsService, *, host: str, port: int) -> None:
        self._db = db
        self._settings = settings
        self._host = host
        self._port = port

    def status(self) -> dict[str, Any]:
        completed = bool(self._settings.get("setup_completed"))
        mode = self._settings.get("operation_mode") or None
        return {"is_first_run": not completed, "setup_completed": completed, "mode": mode}

    async def standalone(
        self,
        *,
        library_paths: list[str],
        scan_rules: list[dict[str, Any]],
        worker_config: dict[str, Any] | None,
        scanner_config: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if not library_paths:
            raise BadRequest("library_paths: give at least one library folder", code="no_paths")
        await asyncio.to_thread(_check_folders, library_paths)
        rules = [_rule_row(rule, position) for position, rule in enumerate(scan_rules)]
        updates: dict[str, Any] = {
            "library_paths": [str(Path(p)) for p in library_paths],
            "setup_completed": True,
            "operation_mode": "standalone",
        }
        if worker_config:
            count = worker_config.get("count", 1)
            kind = worker_config.get("type", "cpu")
            if kind not in ("cpu", "gpu"):
                raise BadRequest("worker_config.type must be cpu or gpu", code="invalid_worker")
            updates["worker_cpu_count" if kind == "cpu" else "worker_gpu_count"] = count
            if kind == "gpu":
                updates["worker_cpu_count"] = 0
        if scanner_config and "interval_minutes" in scanner_config:
            updates["scanner_interval_minutes"] = scanner_config["interval_minutes"]
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise Conflict("scan_rules: two rules have the same name", code="rule_exists")
        async with self._db.write() as session:
            if names:
                taken = (
                    await session.scalars(select(ScanRule.name).where(ScanRule.name.in_(names)))
                ).all()
                if taken:
                    raise Conflict(f"Scan rule '{taken[0]}' already exists", code="rule_exists")
            # Validate settings before anything is written, so a bad value writes nothing.
            for key, value in updates.items():
                try:
                    REGISTRY[key].parse(value)
                except ValueError as exc:
                    raise BadRequest(f"{key}: {exc}", code="invalid_setting") from None
            session.add_all(rules)
        await self._settings.bulk_update(updates)
        return {
            "success": True,
            "message": "Standalone mode configured successfully",
            "bazarr_info": None,
        }

    async def bazarr_slave(self, *, request_host: str | None) -> dict[str, Any]:
        api_key = await self._settings.ensure_api_key()
        await self._settings.bulk_update(
            {"setup_completed": True, "operation_mode": "bazarr_slave"}
        )
        return {
            "success": True,
            "message": "Bazarr slave mode configured successfully",
            "bazarr_info": self.bazarr_info(api_key=api_key, request_host=request_host),
        }

    def bazarr_info(self, *, api_key: str, request_host: str | None) -> dict[str, Any]:
        host = self._host
        if host in _WILDCARD_HOSTS:
            host = request_host or "127.0.0.1"
        shown_host = f"[{host}]" if ":" in host else host
        base = f"http://{shown_host}:{self._port}"
        return {
            "mode": "bazarr_slave",
            "host": host,
            "port": self._port,
            "api_key": api_key,
            "provider_url": base,
            "provider_url_with_key": f"http://{BAZARR_USERNAME}:{api_key}@{shown_host}:{self._port}",
            "status_url": f"{base}/status",
            "instructions": (
                "In Bazarr: Settings > Providers > Whisper. Endpoint: paste provider_url_with_key "
                "(the API key travels as the Basic-auth password; requests from your LAN need no "
                "key unless auth_mode is 'always'). Bazarr's default port is 9000: replace it "
                f"with {self._port}."
            ),
        }

    async def skip(self) -> dict[str, Any]:
        updates: dict[str, Any] = {"setup_completed": True}
        if not self._settings.get("operation_mode"):
            updates["operation_mode"] = "skipped"
        await self._settings.bulk_update(updates)
        return {"message": "Setup wizard skipped"}


def _check_folders(paths: list[str]) -> None:
    for raw in paths:
        path = Path(raw)
        if not path.is_absolute():
            raise BadRequest(f"library_paths: not absolute: {raw}", code="path_not_absolute")
        if not path.is_dir():
            raise BadRequest(f"library_paths: not a folder: {raw}", code="not_a_directory")


def _rule_row(rule: dict[str, Any], position: int) -> ScanRule:
    name = str(rule.get("name") or "").strip()
    if not name:
        raise BadRequest(f"scan_rules[{position}].name is required", code="invalid_rule")
    action = rule.get("action_type", "transcribe")
    if action not in ("transcribe", "translate"):
        raise BadRequest(
            f"scan_rules[{position}].action_type must be transcribe or translate",
            code="invalid_rule",
        )
    preset = rule.get("quality_preset", "balanced")
    if preset not in QUALITY_PRESETS:
        raise BadRequest(
            f"scan_rules[{position}].quality_preset must be one of {', '.join(QUALITY_PRESETS)}",
            code="invalid_rule",
        )
    langs: dict[str, str | None] = {}
    for field in (
        "audio_language_is",
        "has_embedded_subtitle_lang",
        "missing_embedded_subtitle_lang",
        "missing_external_subtitle_lang",
        "target_language",
    ):
        value = rule.get(field)
        if value:
            code = parse_language(str(value))
            if code is None:
                raise BadRequest(
                    f"scan_rules[{position}].{field}: unknown language code {value!r}",
                    code="unknown_language",
                )
            langs[field] = code
        else:
            langs[field] = None
    if action == "translate" and not langs["target_language"]:
        raise BadRequest(
            f"scan_rules[{position}].target_language is required to translate",
            code="invalid_rule",
        )
    return ScanRule(
        name=name,
        enabled=bool(rule.get("enabled", True)),
        priority=int(rule.get("priority", 0)),
        audio_language_is=langs["audio_language_is"],
        audio_language_not=rule.get("audio_language_not"),
        audio_track_count_min=rule.get("audio_track_count_min"),
        has_embedded_subtitle_lang=langs["has_embedded_subtitle_lang"],
        missing_embedded_subtitle_lang=langs["missing_embedded_subtitle_lang"],
        missing_external_subtitle_lang=langs["missing_external_subtitle_lang"],
        file_extension=rule.get("file_extension"),
        action_type=action,
        target_language=langs["target_language"],
        quality_preset=preset,
        job_priority=int(rule.get("job_priority", 0)),
    )
