"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from subtitler import __version__
from subtitler.api.auth import ApiKeyMiddleware
from subtitler.api.errors import install_error_handlers
from subtitler.api.guard import GuardMiddleware
from subtitler.api.openapi import ERROR_RESPONSES, install_openapi
from subtitler.api.routes import (
    bazarr,
    capabilities,
    cluster,
    connections,
    diagnostics,
    events,
    filesystem,
    job_actions,
    jobs,
    library,
    metrics,
    models,
    openai,
    resources,
    rules,
    scanner,
    settings,
    setup,
    subtitles,
    system,
    tokens,
    translation,
    webhooks,
    workers,
)
from subtitler.api.static import mount_frontend
from subtitler.daemon import Daemon, DaemonStopped


def create_app(daemon: Daemon) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await daemon.start()  # before uvicorn binds the port: recovery happens first
        except DaemonStopped:  # SIGTERM during start (Daemon.interrupt_start)
            await daemon.stop()
            raise
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
        job_actions,
        tokens,
        capabilities,
        models,
        metrics,
        rules,
        scanner,
        settings,
        resources,
        filesystem,
        setup,
        events,
        bazarr,
        openai,
        translation,
        webhooks,
        connections,
        library,
        subtitles,
        diagnostics,
        cluster,
    ):
        app.include_router(module.router, responses=ERROR_RESPONSES)  # errors in the OpenAPI
    install_openapi(app)

    def verify_key(candidate: str) -> bool:  # any valid token (its scope is checked by auth)
        return bool(daemon.tokens.check([candidate], "/asr").allowed)

    app.add_middleware(
        ApiKeyMiddleware,
        settings_reader=daemon.settings.get,
        verify_key=verify_key,
        key_check=daemon.tokens.check,
    )
    app.add_middleware(  # outermost: Host/Origin, body limits, no 500 that drops the connection
        GuardMiddleware,
        settings_reader=daemon.settings.get,
        verify_key=verify_key,
        extra_hosts=lambda: [daemon.config.host, *daemon.config.extra_hosts],
    )
    mount_frontend(app)  # the built web UI at / with an SPA fallback (subtitler/api/static.py)
    return app
