"""The small HTTP app of a `subtitler worker` node: /health, the Workers API, the Nodes list and
Bazarr's routes (/asr, /detect-language, /status) and the OpenAI-compatible /v1/audio/* (a node
without workers sends those requests here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from subtitler import __version__
from subtitler.api.auth import ApiKeyMiddleware
from subtitler.api.errors import install_error_handlers
from subtitler.api.routes import bazarr, cluster, openai, system, workers
from subtitler.cluster.worker_node import WorkerNode


def create_worker_app(node: WorkerNode) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await node.start()  # connects in the background: /health says 503 until it has
        try:
            yield
        finally:
            await node.stop()

    app = FastAPI(title="subtitler worker node", version=__version__, lifespan=lifespan)
    app.state.daemon = node
    install_error_handlers(app)
    for module in (system, workers, cluster, bazarr, openai):
        app.include_router(module.router)
    app.add_middleware(ApiKeyMiddleware, settings_reader=node.settings.get)
    return app
