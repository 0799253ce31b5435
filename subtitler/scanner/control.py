"""Scheduler and watcher state: kept in settings, applied to the running parts.

The settings are the truth (`scanner_schedule_enabled`, `scanner_cron_expression`,
`scanner_interval_minutes`, `scanner_watcher_enabled`, ...): the start/stop endpoints write them
and apply them at once, `start()` applies them when the daemon starts (so state survives a
restart), and a change made elsewhere (the settings API, the setup wizard) is applied live through
`SettingsService.on_change`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from subtitler.errors import BadRequest
from subtitler.scanner.library import check_roots
from subtitler.scanner.models import SchedulerStart, WatcherStart
from subtitler.scanner.scheduler import ScanScheduler, parse_cron
from subtitler.scanner.watcher import LibraryWatcher

if TYPE_CHECKING:
    from subtitler.scanner.service import ScannerService

logger = logging.getLogger(__name__)

SCHEDULE_KEYS = ("scanner_schedule_enabled", "scanner_cron_expression", "scanner_interval_minutes")
WATCHER_KEYS = (
    "scanner_watcher_enabled",
    "scanner_watcher_paths",
    "scanner_watcher_recursive",
    "scanner_watcher_polling",
    "scanner_watcher_rescan_minutes",
    "library_paths",
)


class ScanControl:
    def __init__(self, scanner: ScannerService, settings: Any) -> None:
        self._scanner = scanner
        self._settings = settings
        self.scheduler = ScanScheduler(run=self._scheduled_run)
        self.watcher = LibraryWatcher(
            quiet_seconds=lambda: float(settings.get("scanner_quiet_seconds")),
            options=lambda: scanner.library.walk_options(),
            on_stable=self._settled,
            on_gone=scanner.file_gone,
        )
        self._started = False
        self._watch_config: tuple[Any, ...] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()  # one watcher apply at a time (API call and listener)
        settings.on_change(SCHEDULE_KEYS, self._changed)
        settings.on_change(WATCHER_KEYS, self._changed)

    async def start(self) -> None:
        self.scheduler.start()
        self._started = True
        await self.apply()

    async def stop(self) -> None:
        self._started = False
        for task in list(self._pending):
            task.cancel()
        await self.watcher.stop()
        self._watch_config = None
        self.scheduler.shutdown()

    def status(self) -> dict[str, Any]:
        return {
            "scheduler_enabled": bool(self._settings.get("scanner_schedule_enabled")),
            "scheduler_running": self.scheduler.running,
            "next_scan_time": self.scheduler.next_run(),
            "watcher_enabled": bool(self._settings.get("scanner_watcher_enabled")),
            "watcher_running": self.watcher.running,
            "watched_paths": list(self.watcher.paths),
            "schedule": self.scheduler.description,
            "watcher_mode": self.watcher.mode,
            "pending_files": len(self.watcher.tracker.pending),
        }

    # --- the API's operations -----------------------------------------------------------------
    async def start_scheduler(self, body: SchedulerStart | None) -> str:
        body = body or SchedulerStart()
        updates: dict[str, Any] = {"scanner_schedule_enabled": body.enabled}
        if body.cron_expression is not None:
            cron = body.cron_expression.strip()
            updates["scanner_cron_expression"] = parse_cron(cron) if cron else ""
        if body.interval_minutes is not None:
            updates["scanner_interval_minutes"] = body.interval_minutes
        if body.paths is not None:
            updates["scanner_schedule_paths"] = await asyncio.to_thread(check_roots, body.paths)
        if body.recursive is not None:
            updates["scanner_schedule_recursive"] = body.recursive
        await self._settings.bulk_update(updates)
        await self.apply_schedule()
        if not body.enabled:
            return "Scheduler stopped successfully"
        return f"Scheduler started successfully ({self.scheduler.description})"

    async def stop_scheduler(self) -> str:
        await self._settings.update("scanner_schedule_enabled", False)
        await self.apply_schedule()
        return "Scheduler stopped successfully"

    async def start_watcher(self, body: WatcherStart | None) -> str:
        body = body or WatcherStart()
        if not body.enabled:
            return await self.stop_watcher()
        paths = body.paths or self._watch_paths()
        if not paths:
            raise BadRequest("No library paths configured", code="no_library_paths")
        roots = await asyncio.to_thread(check_roots, paths)
        updates: dict[str, Any] = {"scanner_watcher_enabled": True}
        if body.paths:
            updates["scanner_watcher_paths"] = roots
        if body.recursive is not None:
            updates["scanner_watcher_recursive"] = body.recursive
        if body.polling is not None:
            updates["scanner_watcher_polling"] = body.polling
        await self._settings.bulk_update(updates)
        await self.apply_watcher()
        return "File watcher started successfully"

    async def stop_watcher(self) -> str:
        await self._settings.update("scanner_watcher_enabled", False)
        await self.apply_watcher()
        return "File watcher stopped successfully"

    # --- applying settings --------------------------------------------------------------------
    async def apply(self) -> None:
        await self.apply_schedule()
        await self.apply_watcher()

    async def apply_schedule(self) -> None:
        self._apply_schedule()  # synchronous: nothing can interleave, no lock needed

    def _apply_schedule(self) -> None:
        if not self._started:
            return
        if not self._settings.get("scanner_schedule_enabled"):
            self.scheduler.unschedule_scans()
            return
        cron = self._settings.get("scanner_cron_expression") or None
        minutes = int(self._settings.get("scanner_interval_minutes"))
        self.scheduler.schedule_scans(cron=cron, minutes=minutes)

    async def apply_watcher(self) -> None:
        async with self._lock:
            await self._apply_watcher()

    async def _apply_watcher(self) -> None:
        if not self._started:
            return
        roots: list[str] = []
        if self._settings.get("scanner_watcher_enabled"):
            try:
                roots = await asyncio.to_thread(check_roots, self._watch_paths())
            except BadRequest as exc:
                logger.warning("file watcher not started: %s", exc.detail)
        if not roots:
            await self.watcher.stop()
            self._watch_config = None
            self.scheduler.unschedule_rescans()
            return
        recursive = bool(self._settings.get("scanner_watcher_recursive"))
        polling = bool(self._settings.get("scanner_watcher_polling"))
        config = (tuple(roots), recursive, polling)
        if config != self._watch_config or not self.watcher.running:
            await self.watcher.start(roots, recursive=recursive, polling=polling)
            self._watch_config = config
        self.scheduler.schedule_rescans(int(self._settings.get("scanner_watcher_rescan_minutes")))

    def _watch_paths(self) -> list[str]:
        paths = self._settings.get("scanner_watcher_paths") or self._settings.get("library_paths")
        return list(paths or [])

    def _changed(self, key: str, _value: Any) -> None:
        """A setting changed (any writer): re-apply on the loop."""
        if not self._started:
            return
        if key in SCHEDULE_KEYS:
            self._apply_schedule()  # at once: the writer's response already shows it
            return
        task = asyncio.get_running_loop().create_task(self.apply_watcher())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # --- callbacks ----------------------------------------------------------------------------
    async def _scheduled_run(self, kind: str) -> None:
        if kind == "watcher_rescan":
            if not self.watcher.paths:
                return
            paths, recursive = list(self.watcher.paths), self.watcher.recursive
        else:
            paths = list(self._settings.get("scanner_schedule_paths") or [])
            recursive = bool(self._settings.get("scanner_schedule_recursive"))
        await self._scanner.scan(paths=paths or None, recursive=recursive, trigger=kind)

    async def _settled(self, path: str) -> None:
        root = next((r for r in self.watcher.paths if path.startswith(r.rstrip("/") + "/")), None)
        await self._scanner.file_settled(path, root)
