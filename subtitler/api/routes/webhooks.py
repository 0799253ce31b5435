"""Inbound webhooks: /api/webhooks/{sonarr,radarr,jellyfin,emby,plex,tautulli}.

Protected like the API (the key may ride in the URL as ?apikey=, since these senders cannot
always set headers). Unknown events answer 200 "ignored" with a reason; malformed bodies 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request

from subtitler.errors import Forbidden, SubtitlerError
from subtitler.settings.specs.integrations import SENDERS

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

MAX_BODY = 4 * 1024 * 1024  # Plex adds a thumbnail; nothing legitimate is bigger


async def read_body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise SubtitlerError(f"webhook body over {MAX_BODY} bytes", code="payload_too_large",
                                 status=413)  # fmt: skip
        chunks.append(chunk)
    return b"".join(chunks)


def refuse_browsers(request: Request) -> None:
    """Senders are servers, never browsers: a cross-site page on the LAN (where `local_exempt`
    needs no key) must not be able to queue work, so a foreign Origin is refused."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Forbidden("Webhooks are not accepted from web pages", code="cross_origin")


def _handler(sender: str) -> Callable[[Request], Awaitable[dict[str, Any]]]:
    async def receive(request: Request) -> dict[str, Any]:
        refuse_browsers(request)
        raw = await read_body(request)
        intake = request.app.state.daemon.integrations.intake
        return await intake.receive(
            sender=sender, content_type=request.headers.get("content-type", ""), raw=raw
        )

    receive.__name__ = f"webhook_{sender}"
    receive.__doc__ = f"Receive a {sender.capitalize()} webhook (see the README for its setup)."
    return receive


for _sender in SENDERS:
    router.add_api_route(f"/{_sender}", _handler(_sender), methods=["POST"],
                         name=f"webhook_{_sender}")  # fmt: skip
