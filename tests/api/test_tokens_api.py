"""Named API tokens (create/list/revoke, scopes) and write-only secrets in /api/settings, from a
client on a public address (so the key is always required)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update

from subtitler.api import create_app
from subtitler.config import Config
from subtitler.daemon import Daemon
from subtitler.db.models import utcnow
from subtitler.db.models_jobs import ApiToken


@pytest.fixture
async def remote(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(daemon), client=("203.0.113.50", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://subtitler") as http:
        yield http


def _key(token: str) -> dict[str, str]:
    return {"X-Api-Key": token}


async def test_tokens_create_list_scope_and_revoke(
    remote: httpx.AsyncClient, daemon: Daemon
) -> None:
    admin = _key(daemon.settings.get("api_key"))
    listed = (await remote.get("/api/tokens", headers=admin)).json()
    assert [(t["name"], t["scope"]) for t in listed] == [("default", "admin")]  # the api_key

    made = await remote.post("/api/tokens", json={"name": "bazarr", "scope": "asr"}, headers=admin)
    assert made.status_code == 201
    asr = made.json()
    assert asr["secret"].startswith("stk_") and asr["prefix"] == asr["secret"][:8]
    listed = (await remote.get("/api/tokens", headers=admin)).json()
    assert "secret" not in listed[-1] and listed[-1]["name"] == "bazarr"
    assert listed[0]["last_used_at"] and listed[-1]["last_used_at"] is None

    # asr scope: the Bazarr/OpenAI routes only
    refused = await remote.get("/api/jobs", headers=_key(asr["secret"]))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    through = await remote.post("/asr", headers=_key(asr["secret"]))
    assert through.status_code not in (401, 403)  # auth passed; the missing upload is a 4xx
    openai = await remote.post("/v1/audio/transcriptions", headers=_key(asr["secret"]))
    assert openai.status_code not in (401, 403)

    other = (await remote.post("/api/tokens", json={"name": "ci"}, headers=admin)).json()
    assert other["scope"] == "admin"
    assert (await remote.get("/api/jobs", headers=_key(other["secret"]))).status_code == 200
    revoked = await remote.delete(f"/api/tokens/{other['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    gone = await remote.get("/api/jobs", headers=_key(other["secret"]))
    assert gone.status_code == 401  # at once

    dup = await remote.post("/api/tokens", json={"name": "bazarr"}, headers=admin)
    assert dup.status_code == 409
    bad = await remote.post("/api/tokens", json={"name": "x", "scope": "root"}, headers=admin)
    assert bad.status_code == 422
    assert (await remote.delete("/api/tokens/9999", headers=admin)).status_code == 404
    # a token cannot manage tokens unless it is admin
    assert (await remote.get("/api/tokens", headers=_key(asr["secret"]))).status_code == 403


async def test_api_key_setting_rotates_the_default_token(
    remote: httpx.AsyncClient, daemon: Daemon
) -> None:
    old = daemon.settings.get("api_key")
    new = "n" * 32
    resp = await remote.put("/api/settings/api_key", json={"value": new}, headers=_key(old))
    assert resp.status_code == 200
    assert (await remote.get("/api/jobs", headers=_key(new))).status_code == 200
    assert (await remote.get("/api/jobs", headers=_key(old))).status_code == 401


async def test_secrets_are_masked_in_settings(remote: httpx.AsyncClient, daemon: Daemon) -> None:
    key = daemon.settings.get("api_key")
    one = (await remote.get("/api/settings/api_key", headers=_key(key))).json()
    assert one["secret"] is True and one["value"] != key and key not in str(one)
    every = (await remote.get("/api/settings", headers=_key(key))).text
    assert key not in every
    # a settings form saved unchanged sends the mask back: the key stays
    back = await remote.put(
        "/api/settings/api_key", json={"value": one["value"]}, headers=_key(key)
    )
    assert back.status_code == 200 and daemon.settings.get("api_key") == key
    bulk = await remote.post(
        "/api/settings/bulk-update", json={"settings": {"api_key": one["value"]}}, headers=_key(key)
    )
    assert bulk.status_code == 200 and daemon.settings.get("api_key") == key


async def test_api_key_is_revealed_to_admins_on_this_origin_only(
    remote: httpx.AsyncClient, client: httpx.AsyncClient, daemon: Daemon
) -> None:
    key = daemon.settings.get("api_key")
    # the Settings page's Show/Copy: a same-origin fetch with the admin key reads it in clear
    page = {"Origin": "http://subtitler", "Sec-Fetch-Site": "same-origin"}
    shown = await remote.get("/api/system/api-key", headers=_key(key) | page)
    assert shown.status_code == 200 and shown.json() == {"api_key": key}
    assert shown.headers["cache-control"] == "no-store"
    # a LAN browser in local_exempt mode needs no key to be on its own page
    lan = await client.get("/api/system/api-key", headers={"Sec-Fetch-Site": "same-origin"})
    assert lan.status_code == 200 and lan.json()["api_key"] == key
    # the key it gives works against the API
    assert (await remote.get("/api/jobs", headers=_key(lan.json()["api_key"]))).status_code == 200
    # no key from a public address: refused like every admin route
    assert (await remote.get("/api/system/api-key")).status_code == 401
    # an asr-scoped token is not an admin
    asr = (
        await remote.post("/api/tokens", json={"name": "b", "scope": "asr"}, headers=_key(key))
    ).json()["secret"]
    assert (await remote.get("/api/system/api-key", headers=_key(asr))).status_code == 403
    # another site's page never gets it, even with the key, even from allowed_origins
    await daemon.settings.update("allowed_origins", ["https://dash.example.org"])
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "https://dash.example.org"},
        {"Referer": "http://evil.example/x"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        for http, extra in ((remote, _key(key)), (client, {})):
            resp = await http.get("/api/system/api-key", headers=headers | extra)
            assert resp.status_code in (401, 403), headers
            assert key not in resp.text


async def test_the_default_token_cannot_be_revoked_and_comes_back_at_start_up(
    remote: httpx.AsyncClient, daemon: Daemon, config: Config
) -> None:
    key = daemon.settings.get("api_key")
    default = (await remote.get("/api/tokens", headers=_key(key))).json()[0]
    assert default["name"] == "default"
    refused = await remote.delete(f"/api/tokens/{default['id']}", headers=_key(key))
    assert refused.status_code == 409
    assert refused.json()["code"] == "default_token_not_revocable"
    assert "regenerate the API key" in refused.json()["detail"]
    assert (await remote.get("/api/jobs", headers=_key(key))).status_code == 200

    # The key was used: its last use reaches the database (throttled, not per request).
    await daemon.tokens.flush()
    async with daemon.db.read() as session:
        row = await session.get(ApiToken, default["id"])
        assert row is not None and row.last_used_at is not None

    # A database where an older version revoked it: the next start restores the key.
    async with daemon.db.write() as session:
        await session.execute(
            update(ApiToken).where(ApiToken.id == default["id"]).values(revoked_at=utcnow())
        )
    await daemon.stop()
    again = Daemon(config)
    await again.start()
    try:
        transport = httpx.ASGITransport(app=create_app(again), client=("203.0.113.50", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://subtitler") as http:
            assert (await http.get("/api/jobs", headers=_key(key))).status_code == 200
            names = [t["name"] for t in (await http.get("/api/tokens", headers=_key(key))).json()]
            assert names == ["default"]
    finally:
        await again.stop()
