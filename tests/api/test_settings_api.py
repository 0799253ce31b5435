"""Settings API: typed registry, validation naming the key, all-or-nothing bulk updates."""

from __future__ import annotations

import httpx

from subtitler.daemon import Daemon
from subtitler.settings import REGISTRY


async def test_every_builtin_setting_is_listed_with_its_type(client: httpx.AsyncClient) -> None:
    rows = (await client.get("/api/settings")).json()
    by_key = {row["key"]: row for row in rows}
    assert set(REGISTRY) <= set(by_key)
    cpu = by_key["worker_cpu_count"]
    assert (cpu["value"], cpu["category"], cpu["value_type"]) == ("-1", "workers", "integer")
    assert cpu["description"]
    assert by_key["library_paths"]["value"] == "[]"


async def test_category_filter(client: httpx.AsyncClient) -> None:
    rows = (await client.get("/api/settings", params={"category": "workers"})).json()
    assert rows and {row["category"] for row in rows} == {"workers"}
    bad = await client.get("/api/settings", params={"category": "nope"})
    assert bad.status_code == 400
    assert "nope" in bad.json()["detail"]


async def test_get_and_missing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/settings/auth_mode")).json()["value"] == "local_exempt"
    missing = await client.get("/api/settings/nope")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Setting 'nope' not found"
    assert (await client.put("/api/settings/nope", json={"value": "1"})).status_code == 404


async def test_update_is_typed_and_read_by_the_daemon(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    resp = await client.put("/api/settings/worker_cpu_count", json={"value": "2"})
    assert resp.status_code == 200
    assert resp.json()["value"] == "2" and resp.json()["updated_at"] is not None
    assert daemon.settings.get("worker_cpu_count") == 2
    paths = await client.put("/api/settings/library_paths", json={"value": "/media/a, /media/b"})
    assert paths.json()["value"] == '["/media/a", "/media/b"]'
    assert daemon.settings.get("library_paths") == ["/media/a", "/media/b"]


async def test_bad_values_are_400_naming_the_key(client: httpx.AsyncClient) -> None:
    cases = {
        "worker_cpu_count": "two",
        "scanner_interval_minutes": "0",
        "auth_mode": "never",
        "setup_completed": "maybe",
        "library_paths": "relative/path",
        "trusted_proxies": "not-an-ip",
    }
    for key, value in cases.items():
        resp = await client.put(f"/api/settings/{key}", json={"value": value})
        assert resp.status_code == 400, (key, resp.text)
        assert resp.json()["detail"].startswith(f"{key}:"), resp.json()
        assert resp.json()["code"] == "invalid_setting"


async def test_bulk_update_is_all_or_nothing(client: httpx.AsyncClient, daemon: Daemon) -> None:
    resp = await client.post(
        "/api/settings/bulk-update",
        json={"settings": {"worker_cpu_count": "3", "scanner_interval_minutes": "-5"}},
    )
    assert resp.status_code == 400
    assert "scanner_interval_minutes" in resp.json()["detail"]
    assert (await client.get("/api/settings/worker_cpu_count")).json()["value"] == "-1"
    assert daemon.settings.get("worker_cpu_count") == -1
    unknown = await client.post(
        "/api/settings/bulk-update", json={"settings": {"worker_cpu_count": "3", "nope": "1"}}
    )
    assert unknown.status_code == 404
    ok = await client.post(
        "/api/settings/bulk-update",
        json={"settings": {"worker_cpu_count": "3", "worker_gpu_count": 0}},
    )
    assert ok.json() == {"message": "Updated 2 settings successfully"}
    assert daemon.settings.get("worker_cpu_count") == 3


async def test_custom_setting_lifecycle(client: httpx.AsyncClient) -> None:
    body = {"key": "my_flag", "value": "yes", "category": "general", "value_type": "boolean"}
    created = await client.post("/api/settings", json={**body, "description": "mine"})
    assert created.status_code == 201
    assert created.json()["value"] == "true"
    assert (await client.post("/api/settings", json=body)).status_code == 409
    builtin = await client.post("/api/settings", json={**body, "key": "auth_mode"})
    assert builtin.status_code == 409
    bad_type = await client.post("/api/settings", json={**body, "key": "x", "value_type": "date"})
    assert bad_type.status_code == 400
    bad_value = await client.post("/api/settings", json={**body, "key": "y", "value": "perhaps"})
    assert bad_value.status_code == 400 and "y:" in bad_value.json()["detail"]
    deleted = await client.delete("/api/settings/my_flag")
    assert deleted.json() == {"message": "Setting 'my_flag' deleted successfully"}
    assert (await client.delete("/api/settings/my_flag")).status_code == 404
    refused = await client.delete("/api/settings/auth_mode")
    assert refused.status_code == 400 and "built in" in refused.json()["detail"]


async def test_init_defaults_is_idempotent_and_keeps_user_values(
    client: httpx.AsyncClient,
) -> None:
    await client.put("/api/settings/worker_cpu_count", json={"value": "4"})
    before = len((await client.get("/api/settings")).json())
    for _ in range(2):
        resp = await client.post("/api/settings/init-defaults")
        assert resp.json() == {"message": "Default settings initialized successfully"}
    after = (await client.get("/api/settings")).json()
    assert len(after) == before
    assert {r["key"]: r["value"] for r in after}["worker_cpu_count"] == "4"


async def test_settings_survive_a_restart(daemon: Daemon) -> None:
    await daemon.settings.update("scanner_interval_minutes", 90)
    from subtitler.daemon import Daemon as Fresh

    await daemon.stop()  # one daemon per data dir: the first releases it
    again = Fresh(daemon.config)
    await again.start()
    try:
        assert again.settings.get("scanner_interval_minutes") == 90
        assert again.settings.get("api_key") == daemon.settings.get("api_key")
    finally:
        await again.stop()
