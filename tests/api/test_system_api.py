"""System and System Resources endpoints: real readings, 503 on a dead database."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import psutil
import pytest

from subtitler.api.static import STATIC_DIR
from subtitler.daemon import Daemon
from subtitler.db import Database


async def test_root(client: httpx.AsyncClient) -> None:
    resp = await client.get("/")
    assert resp.status_code == 200
    if (STATIC_DIR / "index.html").is_file():  # the web UI is built: / is the app
        assert resp.headers["content-type"].startswith("text/html")
    else:
        body = resp.json()
        assert body["name"] == "subtitler" and body["status"] == "running"


async def test_health(client: httpx.AsyncClient, media_file: Path) -> None:
    await client.post("/api/jobs", json={"file_path": str(media_file), "target_lang": "eng"})
    body = (await client.get("/health")).json()
    assert body == {"status": "healthy", "database": "connected", "workers": 0, "queue_size": 1}


async def test_health_is_503_when_the_database_is_unreachable(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    healthy_db = daemon.db
    daemon.db = Database(f"sqlite+aiosqlite:///{tmp_path}/missing-dir/x.db")
    try:
        resp = await client.get("/health")
    finally:
        await daemon.db.dispose()
        daemon.db = healthy_db
    assert resp.status_code == 503
    assert resp.json()["database"] == "unreachable"
    assert "database unreachable" in resp.json()["detail"]


async def test_status_overview(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/status")).json()
    assert body["system"]["status"] == "running"
    assert body["system"]["uptime_seconds"] >= 0
    assert set(body["queue"]) == {
        "total_jobs",
        "queued",
        "processing",
        "completed",
        "failed",
        "cancelled",
    }
    assert {"total_workers", "idle_workers", "busy_workers"} <= set(body["workers"])
    assert {"scheduler_enabled", "next_scan_time", "watcher_running"} <= set(body["scanner"])


async def test_resources_are_real_readings(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/system/resources")).json()
    assert body["cpu"]["count_logical"] == os.cpu_count()
    assert 0.0 <= body["cpu"]["usage_percent"] <= 100.0
    total_gb = psutil.virtual_memory().total / 1024**3
    assert abs(body["memory"]["total_gb"] - total_gb) < 0.1
    memory = body["memory"]
    assert memory["used_gb"] + memory["free_gb"] == pytest.approx(memory["total_gb"], abs=0.05)
    assert isinstance(body["gpus"], list)
    assert (await client.get("/api/system/cpu")).json()["count_logical"] == os.cpu_count()
    assert (await client.get("/api/system/memory")).json()["total_gb"] > 0


async def test_gpus_without_a_driver(client: httpx.AsyncClient, daemon: Daemon) -> None:
    gpus = (await client.get("/api/system/gpus")).json()
    assert isinstance(gpus, list)
    missing = await client.get(f"/api/system/gpu/{len(gpus) + 7}")
    assert missing.status_code == 404
    assert "not found" in missing.json()["detail"]
    if not gpus:
        assert daemon.nvml.unavailable_reason  # no NVML here: the reason is kept, not raised


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/nope")
    assert resp.status_code == 404
    assert resp.json()["detail"] == "Not found"


async def test_openapi_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/redoc")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    for path in (
        "/api/jobs",
        "/api/settings/{key}",
        "/api/system/gpu/{device_id}",
        "/api/filesystem/browse",
        "/api/setup/bazarr-slave",
        "/api/events",
    ):
        assert path in spec["paths"], path


async def test_about_names_the_installed_dependency_versions(client: httpx.AsyncClient) -> None:
    # A bug report copies /api/system/about: it names each dependency's installed version (and,
    # in an environment scripts/install made, the lock and whether the two agree).
    import fastapi
    import sqlalchemy

    deps = (await client.get("/api/system/about")).json()["dependencies"]
    assert deps["packages"]["fastapi"]["installed"] == fastapi.__version__
    assert deps["packages"]["sqlalchemy"]["installed"] == sqlalchemy.__version__
    if deps["lock"] is not None:
        assert deps["lock"].startswith("requirements/")
        assert deps["packages"]["fastapi"]["locked"] == fastapi.__version__
        assert deps["matches_lock"] is (deps["differs"] == [])
