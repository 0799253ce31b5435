"""Serve the built web UI (frontend/ → subtitler/static/) with an SPA fallback.

`scripts/build-frontend` writes the Vite build into the package's `static/` folder. When it holds
an `index.html`, `GET /` and every other GET path that is not the API's answer with the UI: a file
from the build when one matches, index.html otherwise (the Vue router takes it from there). The API
paths keep their JSON 404s; an unknown page is a 404 too: the UI's not-found page for a browser
(Accept: text/html), JSON otherwise. When nothing is built, `GET /` keeps the JSON the spec shows.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# Paths that belong to the daemon, never to the UI: unknown ones stay JSON 404s.
BACKEND_PREFIXES = ("/api", "/asr", "/detect-language", "/v1", "/docs", "/redoc")
BACKEND_PATHS = frozenset({"/status", "/health", "/openapi.json", "/metrics"})
# The web UI's routes (frontend/src/router.ts; add a view's path here when adding the view):
# they and their sub-paths get index.html; any other path that is not a built file is a JSON 404.
UI_ROUTES = frozenset(
    {"queue", "rules", "scanner", "workers", "settings", "setup", "subtitles", "history", "logs",
     "library", "tokens", "system", "connections"}
)  # fmt: skip

NO_CACHE = {"Cache-Control": "no-cache"}
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


def is_backend_path(path: str) -> bool:
    if path in BACKEND_PATHS:
        return True
    return any(path == p or path.startswith(p + "/") for p in BACKEND_PREFIXES)


class _UiRoute(Route):
    """A GET route that never claims a backend path, so those keep FastAPI's JSON 404/405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("type") == "http" and is_backend_path(scope.get("path", "")):
            return Match.NONE, {}
        return super().matches(scope)


def mount_frontend(app: FastAPI, static_dir: Path = STATIC_DIR) -> bool:
    """Serve the built UI when there is one; returns whether it was mounted."""
    root = static_dir.resolve()
    index = root / "index.html"
    if not index.is_file():
        logger.info("web UI not built (%s missing): run scripts/build-frontend", index)
        return False

    async def ui(request: Request) -> Response:
        rel = request.path_params.get("path", "")
        if rel:
            candidate = (root / rel).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                return FileResponse(candidate, headers=NO_CACHE)
            if Path(rel).suffix and not rel.endswith(".html"):
                # A missing asset (old hashed file name): a 404, not the page.
                raise HTTPException(status_code=404, detail="Not found")
            if rel.split("/", 1)[0] not in UI_ROUTES:  # neither API nor UI: a 404
                if "text/html" in request.headers.get("accept", ""):
                    # a browser: the UI's own not-found page (its router shows it), still a 404
                    return FileResponse(index, status_code=404, headers=NO_CACHE)
                raise HTTPException(status_code=404, detail="Not found")
        return FileResponse(index, headers=NO_CACHE)

    # `/` first, ahead of the API-mode root route the system router registered.
    app.router.routes.insert(0, _UiRoute("/", ui, methods=["GET"], include_in_schema=False))
    assets = root / "assets"
    if assets.is_dir():
        app.router.routes.append(
            Mount("/assets", app=_ImmutableStatic(directory=assets), name="ui-assets")
        )
    app.router.routes.append(_UiRoute("/{path:path}", ui, methods=["GET"], include_in_schema=False))
    logger.info("serving the web UI from %s", root)
    return True


class _ImmutableStatic(StaticFiles):
    """Vite's hashed assets never change under one name: let browsers keep them."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(IMMUTABLE)
        return response
