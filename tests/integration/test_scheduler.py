"""Scheduled scans: cron parsing (croniter semantics), next-run times, intervals, a run that
really scans, and scheduler + watcher state that survives a daemon restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from subtitler.api import create_app
from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.errors import BadRequest
from subtitler.scanner.scheduler import SCAN_JOB, CroniterTrigger, parse_cron
from tests.waiting import wait_until


def test_cron_trigger_uses_standard_cron_semantics() -> None:
    tz = UTC
    wednesday = datetime(2025, 1, 15, 12, 0, tzinfo=tz)
    sunday_2am = CroniterTrigger("0 2 * * 0", tz).next_times(2, after=wednesday)
    assert sunday_2am == [
        datetime(2025, 1, 19, 2, 0, tzinfo=tz),
        datetime(2025, 1, 26, 2, 0, tzinfo=tz),
    ]
    quarter = CroniterTrigger("*/15 * * * *", tz)
    assert quarter.get_next_fire_time(None, wednesday) == wednesday + timedelta(minutes=15)
    # missed runs: APScheduler walks from the previous fire time; coalescing keeps one
    prev = datetime(2025, 1, 15, 11, 0, tzinfo=tz)
    assert quarter.get_next_fire_time(prev, wednesday) == datetime(2025, 1, 15, 11, 15, tzinfo=tz)
    assert parse_cron("  0   2 * * *  ") == "0 2 * * *"
    for bad in ("61 * * * *", "* * *", "0 2 * * * *", "every day", ""):
        with pytest.raises(BadRequest):
            parse_cron(bad)


async def test_scheduler_endpoints(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    status = (await client.get("/api/scanner/status")).json()
    assert (status["scheduler_enabled"], status["scheduler_running"]) == (False, False)
    assert status["next_scan_time"] is None and status["total_scans"] == 0

    bad = await client.post("/api/scanner/scheduler/start", json={"cron_expression": "61 * * * *"})
    assert bad.status_code == 400 and "cron" in bad.json()["detail"].lower()
    assert daemon.settings.get("scanner_schedule_enabled") is False
    bad_setting = await client.put(
        "/api/settings/scanner_cron_expression", json={"value": "not a cron"}
    )
    assert bad_setting.status_code == 400

    cron = await client.post("/api/scanner/scheduler/start", json={"cron_expression": "0 2 * * 0"})
    assert cron.json() == {"message": "Scheduler started successfully (cron: 0 2 * * 0)"}
    status = (await client.get("/api/scanner/status")).json()
    assert status["scheduler_enabled"] and status["scheduler_running"]
    nxt = datetime.fromisoformat(status["next_scan_time"]).astimezone()  # local time
    assert (nxt.weekday(), nxt.hour, nxt.minute) == (6, 2, 0)  # Sunday 02:00
    assert timedelta(0) < nxt - datetime.now().astimezone() <= timedelta(days=7)
    job = daemon.scanner.control.scheduler.job()
    assert (job.coalesce, job.max_instances) == (True, 1)

    interval = await client.post(
        "/api/scanner/scheduler/start", json={"cron_expression": "", "interval_minutes": 30}
    )
    assert interval.json() == {"message": "Scheduler started successfully (every 30 minutes)"}
    nxt = datetime.fromisoformat((await client.get("/api/scanner/status")).json()["next_scan_time"])
    assert abs((nxt - datetime.now(UTC)) - timedelta(minutes=30)) < timedelta(seconds=10)
    plain = await client.post("/api/scanner/scheduler/start")  # no body: the stored settings
    assert plain.json() == {"message": "Scheduler started successfully (every 30 minutes)"}

    # a due run really scans (and never two at once: max_instances=1, scans join)
    library = tmp_path / "library"
    library.mkdir()
    await daemon.settings.update("library_paths", [str(library)])
    job = daemon.scanner.control.scheduler.job(SCAN_JOB)
    job.modify(next_run_time=datetime.now(UTC))

    async def scanned() -> bool:
        return bool((await client.get("/api/scanner/status")).json()["total_scans"] == 1)

    await wait_until(scanned, timeout=30, what="the due scan")
    status = (await client.get("/api/scanner/status")).json()
    assert status["total_scans"] == 1 and status["last_scan_time"]
    assert status["scheduler_running"]  # still scheduled after the run

    stop = await client.post("/api/scanner/scheduler/stop")
    assert stop.json() == {"message": "Scheduler stopped successfully"}
    status = (await client.get("/api/scanner/status")).json()
    assert (status["scheduler_enabled"], status["scheduler_running"]) == (False, False)
    assert status["next_scan_time"] is None


async def test_setup_wizard_enables_the_schedule_and_watcher_live(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    lib = tmp_path / "media"
    lib.mkdir()
    body = {"library_paths": [str(lib)], "scanner_config": {"interval_minutes": 120}}
    assert (await client.post("/api/setup/standalone", json=body)).status_code == 200
    status = (await client.get("/api/scanner/status")).json()
    assert status["scheduler_enabled"] and status["scheduler_running"]
    assert status["schedule"] == "every 120 minutes"

    async def watching() -> dict[str, Any] | None:  # it starts in the background (a thread)
        status = (await client.get("/api/scanner/status")).json()
        return status if status["watcher_running"] else None

    status = await wait_until(watching, timeout=30, what="the watcher")
    assert status["watcher_running"] and status["watched_paths"] == [str(lib)]
    # a settings change made elsewhere is applied live too
    await client.put("/api/settings/scanner_cron_expression", json={"value": "30 4 * * *"})

    async def rescheduled() -> dict[str, Any] | None:
        status = (await client.get("/api/scanner/status")).json()
        return status if status["schedule"] == "cron: 30 4 * * *" else None

    status = await wait_until(rescheduled, timeout=30, what="the new schedule")
    nxt = datetime.fromisoformat(status["next_scan_time"]).astimezone()
    assert (nxt.hour, nxt.minute) == (4, 30)


async def test_restart_keeps_scheduler_and_watcher_state(config: Config, tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    first = Daemon(config)
    await first.start()
    try:
        app = create_app(first)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            await first.settings.update("library_paths", [str(library)])
            resp = await http.post(
                "/api/scanner/scheduler/start", json={"cron_expression": "15 3 * * *"}
            )
            assert resp.status_code == 200
            assert (await http.post("/api/scanner/watcher/start")).status_code == 200
            before = (await http.get("/api/scanner/status")).json()
    finally:
        await first.stop()
    assert before["watcher_running"] and before["scheduler_running"]

    second = Daemon(config)  # same data dir: a restart
    await second.start()
    try:
        after = second.scanner_status()
        assert after["scheduler_enabled"] and after["scheduler_running"]
        assert after["schedule"] == "cron: 15 3 * * *"
        assert after["next_scan_time"] == before["next_scan_time"]
        assert after["watcher_enabled"] and after["watcher_running"]
        assert after["watched_paths"] == [str(library)]
        full = await second.status()
        assert full["scanner"]["watcher_running"] is True
    finally:
        await second.stop()
    assert second.scanner_status()["watcher_running"] is False
