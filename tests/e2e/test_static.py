"""Serving the built web UI (subtitler/api/static.py): assets, the SPA fallback, and the API's
JSON 404s left alone. Uses a stand-in build, so it runs without node."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from subtitler.api.errors import install_error_handlers
from subtitler.api.static import is_backend_path, mount_frontend


def _app(static: Path) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"name": "subtitler", "message": "Frontend not built. Access API docs at /docs"}

    @app.get("/api/jobs")
    async def jobs() -> list[str]:
        return []

    @app.get("/status")
    async def status() -> dict[str, str]:
        return {"version": "x"}

    mount_frontend(app, static)
    return app


@pytest.fixture
def build(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><div id=app></div>")
    (static / "assets" / "index-abc123.js").write_text("console.log(1)")
    (static / "favicon.svg").write_text("<svg/>")
    return static


def test_serves_index_assets_and_spa_fallback(build: Path) -> None:
    client = TestClient(_app(build))
    root = client.get("/")
    assert root.status_code == 200
    assert root.headers["content-type"].startswith("text/html")
    assert "id=app" in root.text
    for path in ("/queue", "/rules", "/settings", "/queue?job=1", "/settings/deep/link"):
        r = client.get(path)
        assert r.status_code == 200 and "id=app" in r.text, path
    asset = client.get("/assets/index-abc123.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    assert client.get("/favicon.svg").text == "<svg/>"
    assert client.get("/").headers["cache-control"] == "no-cache"


def test_api_paths_keep_json(build: Path) -> None:
    client = TestClient(_app(build))
    assert client.get("/api/jobs").json() == []
    assert client.get("/status").json() == {"version": "x"}
    for path in ("/api/nothing", "/api/jobs/x/y/z", "/v1/nothing", "/asr/x", "/assets/gone.js"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/json", path
        assert r.json()["detail"] == "Not found"
    assert client.post("/api/nothing").status_code == 404
    # Neither an API nor a UI route: a JSON 404, not the page (and never a file outside the build)
    for path in ("/../../etc/passwd", "/metrics-typo", "/deep/link/page", "/wp-login.php"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["detail"] == "Not found", path
    # a browser asking for an unknown page gets the UI (its not-found page), still a 404;
    # the API answers JSON to browsers too
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = client.get("/deep/link/page", headers=browser)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert page.text == "<!doctype html><div id=app></div>"
    api = client.get("/api/nothing", headers=browser)
    assert api.status_code == 404 and api.json()["detail"] == "Not found"
    asset = client.get("/assets/gone.js", headers=browser)
    assert asset.status_code == 404 and asset.headers["content-type"] == "application/json"


def test_not_built_keeps_the_json_root(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path / "missing"))
    assert client.get("/").json()["message"].startswith("Frontend not built")
    assert client.get("/queue").status_code == 404


def test_backend_paths() -> None:
    for path in ("/api", "/api/jobs", "/status", "/docs", "/openapi.json", "/v1/x", "/health"):
        assert is_backend_path(path), path
    for path in ("/", "/queue", "/apis", "/statusboard", "/assets/x.js"):
        assert not is_backend_path(path), path
