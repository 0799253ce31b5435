"""Scheduled scans: APScheduler 3 (AsyncIOScheduler) with a cron expression or an interval.

Cron expressions are validated and evaluated with croniter (APScheduler's own `from_crontab`
numbers weekdays from Monday, so `0 2 * * 0` would run on Mondays); runs missed while the daemon
was busy are coalesced into one and a scan never overlaps itself (max_instances=1). A second job
backs the watcher up with a light rescan of its folders.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from croniter import croniter

from subtitler.errors import BadRequest

logger = logging.getLogger(__name__)

SCAN_JOB = "library_scan"
RESCAN_JOB = "watcher_rescan"
MISFIRE_GRACE_SECONDS = 6 * 3600


def parse_cron(expression: str) -> str:
    """A normalised 5-field cron expression; 400 naming the problem otherwise."""
    text = " ".join(str(expression).split())
    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise BadRequest(
            f"Invalid cron expression {expression!r}: expected 5 fields "
            "(minute hour day-of-month month day-of-week), e.g. '0 2 * * *'",
            code="invalid_cron",
        )
    return text


class CroniterTrigger(BaseTrigger):
    """An APScheduler trigger whose fire times are croniter's (standard cron semantics)."""

    def __init__(self, expression: str, timezone: tzinfo) -> None:
        self.expression = parse_cron(expression)
        self.timezone = timezone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        start = (previous_fire_time or now).astimezone(self.timezone)
        nxt: datetime = croniter(self.expression, start).get_next(datetime)
        return nxt

    def next_times(self, count: int, *, after: datetime | None = None) -> list[datetime]:
        it = croniter(self.expression, (after or datetime.now(self.timezone)))
        return [it.get_next(datetime) for _ in range(count)]

    def __str__(self) -> str:
        return f"cron[{self.expression}]"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


class ScanScheduler:
    def __init__(self, *, run: Callable[[str], Awaitable[Any]]) -> None:
        self._run = run  # run(trigger): "scheduled" or "watcher_rescan"
        self._scheduler: AsyncIOScheduler | None = None
        self.description: str | None = None

    @property
    def timezone(self) -> tzinfo:
        if self._scheduler is not None:
            tz: tzinfo = self._scheduler.timezone
            return tz
        return datetime.now().astimezone().tzinfo or UTC

    def start(self) -> None:
        if self._scheduler is None:
            self._scheduler = AsyncIOScheduler(
                job_defaults={
                    "coalesce": True,
                    "max_instances": 1,
                    "misfire_grace_time": MISFIRE_GRACE_SECONDS,
                }
            )
            self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self.description = None

    def trigger(self, *, cron: str | None, minutes: int) -> tuple[BaseTrigger, str]:
        if cron:
            expression = parse_cron(cron)
            return CroniterTrigger(expression, self.timezone), f"cron: {expression}"
        return IntervalTrigger(minutes=minutes, timezone=self.timezone), f"every {minutes} minutes"

    def schedule_scans(self, *, cron: str | None, minutes: int) -> str:
        trigger, self.description = self.trigger(cron=cron, minutes=minutes)
        self._add(SCAN_JOB, trigger, "scheduled")
        logger.info("scheduled library scans %s", self.description)
        return self.description

    def unschedule_scans(self) -> None:
        self._remove(SCAN_JOB)
        self.description = None

    def schedule_rescans(self, minutes: int) -> None:
        """The watcher's backup: a light rescan every `minutes` (0: none)."""
        if minutes <= 0:
            self._remove(RESCAN_JOB)
            return
        trigger = IntervalTrigger(minutes=minutes, timezone=self.timezone)
        self._add(RESCAN_JOB, trigger, "watcher_rescan")

    def unschedule_rescans(self) -> None:
        self._remove(RESCAN_JOB)

    @property
    def running(self) -> bool:
        return self.job(SCAN_JOB) is not None

    def next_run(self, job_id: str = SCAN_JOB) -> str | None:
        job = self.job(job_id)
        return _iso(job.next_run_time) if job is not None else None

    # --- internals ----------------------------------------------------------------------------
    def job(self, job_id: str = SCAN_JOB) -> Any:
        if self._scheduler is None:
            return None
        return self._scheduler.get_job(job_id)

    def _add(self, job_id: str, trigger: BaseTrigger, kind: str) -> None:
        if self._scheduler is None:
            raise RuntimeError("scheduler not started")
        self._scheduler.add_job(
            self._fire, trigger, args=[kind], id=job_id, name=job_id, replace_existing=True
        )

    def _remove(self, job_id: str) -> None:
        if self.job(job_id) is not None and self._scheduler is not None:
            self._scheduler.remove_job(job_id)

    async def _fire(self, kind: str) -> None:
        try:
            await self._run(kind)
        except Exception as exc:  # a scheduled run must not kill the schedule
            logger.warning("%s scan failed: %s", kind, exc)
