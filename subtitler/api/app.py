"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from subtitler import __version__
from subtitler.api.auth import ApiKeyMiddleware
from subtitler.api.errors import install_error_handlers
from subtitler.api.routes import (
    bazarr,
    cluster,
    events,
    filesystem,
    jobs,
    openai,
    resources,
    rules,
    scanner,
    settings,
    setup,
    system,
    workers,
)
from subtitler.api.static import mount_frontend
from subtitler.daemon import Daemon


def create_app(daemon: Daemon) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await daemon.start()  # before uvicorn binds the port: recovery happens first
        try:
            yield
        finally:
            await daemon.stop()

    app = FastAPI(
        title="subtitler",
        version=__version__,
        description=(
            "Subtitles for a home media library, written by faster-whisper. "
            "Authenticate with the API key as X-Api-Key, ?apikey=, Bearer, or Basic password."
        ),
        lifespan=lifespan,
    )
    app.state.daemon = daemon
    install_error_handlers(app)
    for module in (
        system,
        workers,
        jobs,
        rules,
        scanner,
        settings,
        resources,
        filesystem,
        setup,
        events,
        bazarr,
        openai,
        cluster,
    ):
        app.include_router(module.router)
    app.add_middleware(ApiKeyMiddleware, settings_reader=daemon.settings.get)
    mount_frontend(app)  # the built web UI at / with an SPA fallback (subtitler/api/static.py)
    return app
