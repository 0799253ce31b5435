"""/api/translation and the translation pre-check at enqueue, against a real SQLite daemon and
the real apertium (eng<->spa installed here)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.mediagen import Audio, Spec, make_media
from tests.translation_servers import fake_provider, mark


async def test_providers_reports_apertium_and_its_pairs(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/translation/providers")).json()
    assert body["provider"] == "apertium" and body["reachable"] is True, body
    assert {"source": "eng", "target": "spa"} in body["pairs"]
    names = {p["name"]: p for p in body["providers"]}
    assert set(names) == {"none", "apertium", "ctranslate2", "openai", "libretranslate", "deepl"}
    deepl_key = next(f for f in names["deepl"]["fields"] if f["key"] == "deepl_api_key")
    assert deepl_key["secret"] is True and deepl_key["required"] is True


async def test_providers_reports_an_unreachable_provider(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/settings/bulk-update",
        json={
            "settings": {
                "translation_provider": "libretranslate",
                "libretranslate_url": "http://127.0.0.1:9",
            }
        },
    )
    body = (await client.get("/api/translation/providers")).json()
    assert body["reachable"] is False and body["code"] == "translation_unavailable"
    assert "127.0.0.1:9" in body["detail"]


async def test_test_translates_a_sample_with_latency(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/translation/test", json={"target": "es", "text": "The house is big."}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["provider"], body["source"], body["target"]) == ("apertium", "eng", "spa")
    assert "casa" in body["translation"] and body["latency_ms"] >= 0


async def test_test_uses_the_forms_unsaved_values(client: httpx.AsyncClient) -> None:
    with fake_provider("deepl", api_key="secret:fx") as (url, state):
        resp = await client.post(
            "/api/translation/test",
            json={
                "provider": "deepl",
                "target": "spa",
                "text": "Hello.",
                "settings": {"deepl_api_key": "secret:fx", "deepl_api_url": url},
            },
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["translation"] == mark("Hello.")
        assert state.requests[-1]["auth"] == "DeepL-Auth-Key secret:fx"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"provider": "babelfish", "target": "spa"}, 422, "provider"),
        (
            {"provider": "deepl", "target": "spa", "settings": {"deepl_api_key": ""}},
            422,
            "deepl_api_key",
        ),
        (
            {
                "provider": "libretranslate",
                "target": "spa",
                "settings": {"libretranslate_url": "htp:/nowhere"},
            },
            422,
            "libretranslate_url",
        ),
        (
            {
                "provider": "openai",
                "target": "spa",
                "settings": {"openai_base_url": "localhost:11434"},
            },
            422,
            "openai_base_url",
        ),
        ({"target": "xx"}, 422, "target"),
        ({"target": "spa", "source": "klingonese"}, 422, "source"),
        ({"target": "spa", "settings": {"api_key": "x"}}, 422, "api_key"),
        ({"target": "spa", "text": "x" * 2001}, 422, "text"),
    ],
)
async def test_bad_input_is_a_clear_4xx_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], status: int, field: str
) -> None:
    resp = await client.post("/api/translation/test", json=body)
    assert resp.status_code == status, resp.text
    assert field in str(resp.json()["detail"])


async def test_settings_refuse_a_malformed_url_and_unknown_provider(
    client: httpx.AsyncClient,
) -> None:
    resp = await client.put("/api/settings/libretranslate_url", json={"value": "ftp://x"})
    assert resp.status_code == 400 and "libretranslate_url" in resp.json()["detail"]
    resp = await client.put("/api/settings/translation_provider", json={"value": "babelfish"})
    assert resp.status_code == 400 and "translation_provider" in resp.json()["detail"]


async def test_unsupported_pair_is_refused_at_enqueue(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    video = make_media(tmp_path / "lib" / "Anime.mkv", Spec(audio=(Audio(language="jpn"),)))
    resp = await client.post("/api/jobs", json={"file_path": str(video), "target_lang": "spa"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "translation_unsupported_pair"
    assert "apertium" in resp.json()["detail"] and "jpn->spa" in resp.json()["detail"]
    await client.put("/api/settings/translation_provider", json={"value": "none"})
    resp = await client.post("/api/jobs", json={"file_path": str(video), "target_lang": "spa"})
    assert resp.json()["code"] == "translation_unavailable" and "jpn->spa" in resp.json()["detail"]
    # English audio to Spanish is reachable with apertium: queued as a transcription
    await client.put("/api/settings/translation_provider", json={"value": "apertium"})
    english = make_media(tmp_path / "lib" / "Film.mkv", Spec(audio=(Audio(language="eng"),)))
    resp = await client.post("/api/jobs", json={"file_path": str(english), "target_lang": "spa"})
    assert resp.status_code == 201 and resp.json()["job_type"] == "transcription"
