"""The library index and the subtitle history on PostgreSQL: the scan's upsert, filters, paging."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from subtitler.daemon import Daemon
from tests.mediagen import Audio, Spec, make_media


@pytest.fixture
def pg_client(pg_daemon_client: tuple[Daemon, httpx.AsyncClient]) -> httpx.AsyncClient:
    return pg_daemon_client[1]


async def test_library_index_on_postgres(pg_client: httpx.AsyncClient, tmp_path: Path) -> None:
    root = tmp_path / "lib"
    for n, lang in enumerate(("eng", "jpn", "eng")):
        make_media(root / f"Show S01E0{n + 1}.mkv", Spec(audio=(Audio(language=lang),)))
    await pg_client.put("/api/settings/library_paths", json={"value": [str(root)]})
    await pg_client.post(
        "/api/scan-rules",
        json={"name": "jpn", "conditions": {"audio_language_is": "jpn"}, "action": {}},
    )
    for _ in range(2):  # the second scan updates the rows in place (upsert)
        assert (await pg_client.post("/api/scanner/scan", json={})).status_code == 200
    body = (await pg_client.get("/api/library", params={"sort": "name"})).json()
    assert body["total"] == 3
    assert [i["verdict"] for i in body["items"]] == ["no_match", "wanted", "no_match"]
    wanted = (await pg_client.get("/api/library", params={"status": "wanted"})).json()
    assert [i["name"] for i in wanted["items"]] == ["Show S01E02.mkv"]
    assert wanted["items"][0]["last_job"]["status"] == "queued"
    missing = (await pg_client.get("/api/library", params={"missing": "eng", "q": "E03"})).json()
    assert missing["total"] == 1
