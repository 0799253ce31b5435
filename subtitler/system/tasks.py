"""The System page's task list: scan, rescan, backup, cleanup, each with its last and next run and
a Run-now that starts it in the background (one run of a task at a time). Last runs are kept in
the internal setting `system_task_runs`, so they survive a restart."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from subtitler.db.migrate import backup_sqlite
from subtitler.db.models import WrittenSubtitle
from subtitler.errors import BadRequest, Conflict, NotFound

logger = logging.getLogger(__name__)

TASKS = ("scan", "rescan", "backup", "cleanup")


class SystemTasks:
    def __init__(self, daemon: Any) -> None:
        self._daemon = daemon
        self._running: dict[str, asyncio.Task[None]] = {}

    def _runs(self) -> dict[str, Any]:
        value = self._daemon.settings.get("system_task_runs")
        return dict(value) if isinstance(value, dict) else {}

    def _with_scans(self, runs: dict[str, Any]) -> dict[str, Any]:
        """Any scan counts as the scan task's last run (scheduled, wizard, Scan now), not only
        one started here: the page never says "never" after scans ran."""
        scanned = self._daemon.settings.get("scanner_last_scan_time") or None
        mine = runs.get("scan") or {}
        if scanned and (not mine.get("at") or _when(scanned) > _when(mine["at"])):
            last = getattr(self._daemon.scanner, "last_result", None)
            result = (
                f"{last.scanned_files} files, {last.jobs_created} jobs created ({last.trigger})"
                if last is not None
                else "scanned"
            )
            duration = last.duration_seconds if last is not None else None
            runs = runs | {"scan": {"at": scanned, "ok": True, "result": result,
                                    "duration": duration}}  # fmt: skip
        return runs

    def list(self) -> list[dict[str, Any]]:
        runs = self._with_scans(self._runs())
        scheduler = self._daemon.scanner.control.scheduler
        next_runs = {
            "scan": scheduler.next_run(),
            "rescan": scheduler.next_run("watcher_rescan"),
            "backup": None,
            "cleanup": None,
        }
        return [
            {
                "name": name,
                "running": name in self._running and not self._running[name].done(),
                "last_run": (runs.get(name) or {}).get("at"),
                "last_result": (runs.get(name) or {}).get("result"),
                "last_ok": (runs.get(name) or {}).get("ok"),
                "last_duration_seconds": (runs.get(name) or {}).get("duration"),
                "next_run": next_runs[name],
            }
            for name in TASKS
        ]

    async def run_now(self, name: str) -> dict[str, Any]:
        if name not in TASKS:
            raise NotFound(f"No task {name!r}; tasks: {', '.join(TASKS)}", code="task_not_found")
        current = self._running.get(name)
        if current is not None and not current.done():
            raise Conflict(f"The {name} task is already running", code="task_running")
        work = self._work(name)
        task = asyncio.get_running_loop().create_task(self._run(name, work))
        self._running[name] = task
        return {"name": name, "running": True}

    async def wait(self, name: str) -> None:
        task = self._running.get(name)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    def _work(self, name: str) -> Callable[[], Awaitable[str]]:
        return {
            "scan": self._scan,
            "rescan": self._rescan,
            "backup": self._backup,
            "cleanup": self._cleanup,
        }[name]

    async def _run(self, name: str, work: Callable[[], Awaitable[str]]) -> None:
        started = time.monotonic()
        ok, result = True, ""
        try:
            result = await work()
        except Exception as exc:  # a task's failure is shown on the page, not raised
            ok, result = False, str(getattr(exc, "detail", exc)) or type(exc).__name__
            logger.warning("task %s failed: %s", name, result)
        runs = self._runs()
        runs[name] = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "ok": ok,
            "result": result[:500],
            "duration": round(time.monotonic() - started, 2),
        }
        await self._daemon.settings.bulk_update({"system_task_runs": runs})
        logger.info("task %s finished: %s", name, result)

    async def _scan(self) -> str:
        res = await self._daemon.scanner.scan(trigger="task")
        return f"{res.scanned_files} files, {res.jobs_created} jobs created"

    async def _rescan(self) -> str:
        watched = list(self._daemon.scanner.control.watcher.paths)
        res = await self._daemon.scanner.scan(paths=watched or None, trigger="rescan")
        return f"{res.scanned_files} files, {res.jobs_created} jobs created"

    async def _backup(self) -> str:
        db_file: Path | None = self._daemon.config.db_path
        if db_file is None:
            raise BadRequest("Backups are for SQLite; back PostgreSQL up with pg_dump")
        target = await asyncio.to_thread(backup_sqlite, db_file)
        return f"backup written: {target.name}"

    async def _cleanup(self) -> str:
        """Forget history records whose subtitle file is gone; empty the upload spool."""
        db = self._daemon.db
        async with db.read() as session:
            paths = list(await session.scalars(select(WrittenSubtitle.path)))
        gone = await asyncio.to_thread(lambda: [p for p in paths if not Path(p).is_file()])
        if gone:
            async with db.write() as session:
                for start in range(0, len(gone), 400):
                    chunk = gone[start : start + 400]
                    await session.execute(
                        delete(WrittenSubtitle).where(WrittenSubtitle.path.in_(chunk))
                    )
        return f"{len(gone)} records of deleted subtitles removed"


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
