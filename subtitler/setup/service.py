"""Setup wizard: standalone (library, rules, workers, schedule) or Bazarr mode, or skip.

Everything it stores is ordinary settings and scan rules, so the parts that read them pick the
values up the same way as when a user edits them later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subtitler.db import Database
from subtitler.errors import BadRequest, SubtitlerError
from subtitler.rules.models import ACTION_FIELDS, CONDITION_FIELDS, RuleCreate
from subtitler.rules.service import RulesService, validate_body
from subtitler.security.hosts import effective_hosts
from subtitler.security.limits import check_worker_count
from subtitler.settings import REGISTRY, SettingsService

logger = logging.getLogger(__name__)

BAZARR_USERNAME = "bazarr"
_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


class SetupService:
    def __init__(
        self,
        db: Database,
        settings: SettingsService,
        *,
        rules: RulesService,
        host: str,
        port: int,
    ) -> None:
        self._db = db
        self._settings = settings
        self._rules = rules
        self._host = host
        self._port = port
        # Set by the daemon once built: Finish resizes the running pool and starts the first scan.
        self.pool: Any = None
        self.scanner: Any = None
        self.first_scan: asyncio.Task[Any] | None = None

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
        first_scan: bool = True,
    ) -> dict[str, Any]:
        """One transaction: every part is validated before anything is written, then everything
        is applied; a failure while applying puts back what was written (rules, settings)."""
        plan = await self._plan(library_paths, scan_rules, worker_config, scanner_config)
        await self._apply(plan)
        started = self._start_first_scan() if first_scan else False
        return {
            "success": True,
            "message": "Standalone mode configured successfully",
            "bazarr_info": None,
            "first_scan_started": started,
        }

    async def _plan(
        self,
        library_paths: list[str],
        scan_rules: list[dict[str, Any]],
        worker_config: dict[str, Any] | None,
        scanner_config: dict[str, Any] | None,
    ) -> _SetupPlan:
        """Validate every step of the wizard; 400 naming the first problem, nothing written."""
        if not library_paths:
            raise BadRequest("library_paths: give at least one library folder", code="no_paths")
        await asyncio.to_thread(_check_folders, library_paths)
        rules = [_rule_body(rule, position) for position, rule in enumerate(scan_rules)]
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise BadRequest("scan_rules: two rules have the same name", code="invalid_rule")
        updates: dict[str, Any] = {
            "library_paths": [str(Path(p)) for p in library_paths],
            "setup_completed": True,
            "operation_mode": "standalone",
        }
        workers = self._plan_workers(worker_config, updates)
        if scanner_config and scanner_config.get("interval_minutes") is not None:
            interval = int(scanner_config["interval_minutes"])
            if interval > 0:  # scheduled scans every interval (the settings listener applies it)
                updates["scanner_interval_minutes"] = interval
                updates["scanner_cron_expression"] = ""
                updates["scanner_schedule_enabled"] = True
            else:
                updates["scanner_schedule_enabled"] = False
            updates["scanner_watcher_enabled"] = bool(scanner_config.get("watch", True))
        for key, value in updates.items():
            try:
                REGISTRY[key].parse(value)
            except ValueError as exc:
                raise BadRequest(f"{key}: {exc}", code="invalid_setting") from None
        return _SetupPlan(rules=rules, updates=updates, workers=workers)

    def _plan_workers(
        self, worker_config: dict[str, Any] | None, updates: dict[str, Any]
    ) -> dict[str, int] | None:
        """The pool size asked for, with "as it is" (-1, automatic) resolved to the workers
        running now, checked against max_workers. None: leave the pool alone."""
        if not worker_config:
            return None
        kind = worker_config.get("type", "cpu")
        if kind not in ("cpu", "gpu"):
            raise BadRequest("worker_config.type must be cpu or gpu", code="invalid_worker")
        count = worker_config.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise BadRequest(
                "worker_config.count: a whole number of workers, 0 or more", code="invalid_worker"
            )
        running = self.pool.list() if self.pool is not None else []
        want = {k: sum(1 for w in running if w["worker_type"] == k) for k in ("cpu", "gpu")}
        want[kind] = count
        if kind == "gpu":
            want["cpu"] = 0
        updates[f"worker_{kind}_count"] = count
        if kind == "gpu":
            updates["worker_cpu_count"] = 0
        check_worker_count(want["cpu"] + want["gpu"], self._settings.get)
        return want

    async def _apply(self, plan: _SetupPlan) -> None:
        before = {key: self._settings.get(key) for key in plan.updates}
        undo_rules = await self._save_rules(plan.rules)
        try:
            await self._settings.bulk_update(plan.updates)
        except BaseException:
            await self._undo_rules(undo_rules)
            raise
        try:
            await self._apply_workers(plan.workers)
        except BaseException:
            logger.warning("setup: applying the workers failed; the settings are put back")
            with contextlib.suppress(SubtitlerError):
                await self._settings.bulk_update(before)
            await self._undo_rules(undo_rules)
            raise

    async def _save_rules(self, rules: list[RuleCreate]) -> _RulesUndo:
        """Create the wizard's rules in one transaction; a rule whose name exists is updated
        (re-running the wizard edits what it made before instead of failing with 409)."""
        undo = _RulesUndo()
        if not rules:
            return undo
        existing = {r.name: r for r in await self._rules.list_rules()}
        fresh = [r for r in rules if r.name not in existing]
        try:
            for rule in rules:
                old = existing.get(rule.name)
                if old is not None:
                    await self._rules.update(old.id, rule.model_dump(mode="json"))
                    undo.updated.append((old.id, old.model_dump(mode="json", exclude={"id"})))
            if fresh:
                undo.created = [r.id for r in await self._rules.create_many(fresh)]
        except BaseException:
            await self._undo_rules(undo)
            raise
        return undo

    async def _undo_rules(self, undo: _RulesUndo) -> None:
        for rule_id in undo.created:
            with contextlib.suppress(SubtitlerError):
                await self._rules.delete(rule_id)
        for rule_id, body in undo.updated:
            with contextlib.suppress(SubtitlerError):
                await self._rules.update(rule_id, _update_body(body))

    async def _apply_workers(self, want: dict[str, int] | None) -> None:
        """The worker counts chosen, applied to the running pool (not only saved)."""
        pool = self.pool
        if want is None or pool is None or not getattr(pool, "is_running", False):
            return
        for kind, count in want.items():
            mine = [w for w in pool.list() if w["worker_type"] == kind]
            mine.sort(key=lambda w: w["status"] in ("idle", "sleeping"), reverse=True)  # idle first
            for extra in mine[count:]:
                await pool.remove(extra["worker_id"], timeout=5.0)
        await pool.start_pool(cpu=want["cpu"], gpu=want["gpu"])
        logger.info("setup applied the worker counts: %s", want)

    def _start_first_scan(self) -> bool:
        scanner = self.scanner
        if scanner is None:
            return False

        async def scan() -> Any:
            try:
                return await scanner.scan(trigger="setup")
            except SubtitlerError as exc:  # e.g. a scan of other folders is running
                logger.warning("first scan after setup not run: %s", exc.detail)
                return None

        self.first_scan = asyncio.get_running_loop().create_task(scan())
        return True

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
            # Host names the API answers to (others need the key): subtitler.security.hosts
            "allowed_hosts": effective_hosts(list(self._settings.get("allowed_hosts") or [])),
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


@dataclass
class _SetupPlan:
    rules: list[RuleCreate]
    updates: dict[str, Any]
    workers: dict[str, int] | None


@dataclass
class _RulesUndo:
    created: list[int] = field(default_factory=list)
    updated: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def _update_body(body: dict[str, Any]) -> dict[str, Any]:
    """A rule as listed, back to an update body (its read-only fields dropped)."""
    return {k: v for k, v in body.items() if k in ("name", "enabled", "priority", "conditions",
                                                   "action")}  # fmt: skip


def _check_folders(paths: list[str]) -> None:
    for raw in paths:
        path = Path(raw)
        if not path.is_absolute():
            raise BadRequest(f"library_paths: not absolute: {raw}", code="path_not_absolute")
        if not path.is_dir():
            raise BadRequest(f"library_paths: not a folder: {raw}", code="not_a_directory")


def _rule_body(rule: dict[str, Any], position: int) -> RuleCreate:
    """A wizard rule (flat fields) validated exactly like POST /api/scan-rules; 400 naming it."""
    body = {
        "name": rule.get("name") or "",
        "enabled": rule.get("enabled", True),
        "priority": rule.get("priority", 0),
        "conditions": {f: rule[f] for f in CONDITION_FIELDS if rule.get(f) is not None},
        "action": {f: rule[f] for f in ACTION_FIELDS if rule.get(f) is not None},
    }
    try:
        parsed: RuleCreate = validate_body(RuleCreate, body)
    except SubtitlerError as exc:
        raise BadRequest(f"scan_rules[{position}].{exc.detail}", code="invalid_rule") from None
    return parsed
