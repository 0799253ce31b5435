"""Setup wizard: standalone stores real settings and rules; Bazarr mode gives the exact URL."""

from __future__ import annotations

from pathlib import Path

import httpx

from subtitler.daemon import Daemon


async def test_first_run_then_standalone(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    status = (await client.get("/api/setup/status")).json()
    assert status["is_first_run"] is True and status["setup_completed"] is False
    lib = tmp_path / "anime"
    lib.mkdir()
    body = {
        "library_paths": [str(lib)],
        "scan_rules": [
            {
                "name": "Japanese to Spanish",
                "audio_language_is": "Japanese",
                "missing_external_subtitle_lang": "spa",
                "target_language": "es",
                "action_type": "transcribe",
            }
        ],
        "worker_config": {"count": 2, "type": "cpu"},
        "scanner_config": {"interval_minutes": 120},
    }
    resp = await client.post("/api/setup/standalone", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "success": True,
        "message": "Standalone mode configured successfully",
        "bazarr_info": None,
        "first_scan_started": True,
    }
    assert daemon.settings.get("library_paths") == [str(lib)]
    assert daemon.settings.get("worker_cpu_count") == 2
    assert daemon.settings.get("scanner_interval_minutes") == 120
    after = (await client.get("/api/setup/status")).json()
    assert after == {"is_first_run": False, "setup_completed": True, "mode": "standalone"}
    from sqlalchemy import select

    from subtitler.db.models import ScanRule

    async with daemon.db.read() as session:
        rule = await session.scalar(select(ScanRule))
    assert rule is not None
    assert (rule.audio_language_is, rule.target_language) == ("jpn", "spa")


async def test_standalone_bad_input_writes_nothing(
    client: httpx.AsyncClient, daemon: Daemon, tmp_path: Path
) -> None:
    missing = await client.post(
        "/api/setup/standalone", json={"library_paths": [str(tmp_path / "nope")]}
    )
    assert missing.status_code == 400 and "not a folder" in missing.json()["detail"]
    bad_rule = await client.post(
        "/api/setup/standalone",
        json={
            "library_paths": [str(tmp_path)],
            "scan_rules": [{"name": "x", "audio_language_is": "klingonese-ish"}],
        },
    )
    assert bad_rule.status_code == 400
    assert "audio_language_is" in bad_rule.json()["detail"]
    empty = await client.post("/api/setup/standalone", json={"library_paths": []})
    assert empty.status_code == 422
    assert daemon.settings.get("library_paths") == []
    assert daemon.settings.get("setup_completed") is False


async def test_bazarr_slave_gives_the_url_to_paste(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    resp = await client.post("/api/setup/bazarr-slave")
    assert resp.status_code == 200
    info = resp.json()["bazarr_info"]
    key = daemon.settings.get("api_key")
    assert info["mode"] == "bazarr_slave"
    assert (info["host"], info["port"], info["api_key"]) == ("127.0.0.1", 8000, key)
    assert info["provider_url"] == "http://127.0.0.1:8000"
    assert info["provider_url_with_key"] == f"http://bazarr:{key}@127.0.0.1:8000"
    assert "9000" in info["instructions"]
    status = (await client.get("/api/setup/status")).json()
    assert status["mode"] == "bazarr_slave" and status["setup_completed"] is True


async def test_skip(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/setup/skip")).json() == {"message": "Setup wizard skipped"}
    status = (await client.get("/api/setup/status")).json()
    assert status == {"is_first_run": False, "setup_completed": True, "mode": "skipped"}
