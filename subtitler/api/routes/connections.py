"""Connections: /api/connections (overview, delivery log, server tests, path preview,
notification test and signing-secret rotation)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field

from subtitler.api.deps import get_daemon
from subtitler.daemon import Daemon
from subtitler.integrations import connections

router = APIRouter(prefix="/api/connections", tags=["connections"])


class ServerTest(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    api_key: str | None = Field(default=None, max_length=500)


class PathPreview(BaseModel):
    path: str = Field(min_length=1, max_length=4096)
    # each mapping is [their path, our path]: anything else is the client's mistake (422)
    mappings: (
        list[
            Annotated[
                list[Annotated[str, Field(max_length=4096)]], Field(min_length=2, max_length=2)
            ]
        ]
        | None
    ) = Field(default=None, max_length=200)


class NotifyTest(BaseModel):
    url: str | None = Field(default=None, max_length=2000)


@router.get("")
async def overview(request: Request, daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return connections.overview(settings=daemon.settings, base_url=str(request.base_url))


@router.get("/deliveries")
async def deliveries(
    direction: str | None = Query(default=None, pattern="^(in|out)$"),
    channel: str | None = Query(default=None, max_length=32),
    limit: int = Query(default=100, ge=1, le=500),
    daemon: Daemon = Depends(get_daemon),
) -> dict[str, Any]:
    items = await daemon.integrations.log.recent(limit=limit, direction=direction, channel=channel)
    return {"items": items}


@router.post("/servers/{name}/test")
async def test_server(
    name: str, body: ServerTest | None = Body(default=None), daemon: Daemon = Depends(get_daemon)
) -> dict[str, Any]:
    body = body or ServerTest()
    return await connections.test_server(
        name=name, settings=daemon.settings, url=body.url, api_key=body.api_key
    )


@router.post("/path-preview")
async def path_preview(body: PathPreview, daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    return await connections.preview(path=body.path, settings=daemon.settings,
                                     mappings=body.mappings)  # fmt: skip


@router.post("/notifications/test")
async def notify_test(
    body: NotifyTest | None = Body(default=None), daemon: Daemon = Depends(get_daemon)
) -> dict[str, Any]:
    url = (body or NotifyTest()).url
    data = {"message": "a test from subtitler", "node_id": daemon.config.node_id}
    sent = await daemon.integrations.webhooks("test", data, only_url=url) if url else []
    if not url:
        for hook in daemon.settings.get("notify_webhooks") or []:
            sent += await daemon.integrations.webhooks("test", data, only_url=str(hook["url"]))
        if daemon.settings.get("apprise_urls"):
            sent.append(await daemon.integrations.apprise.send(
                "subtitler: test", "A test notification from subtitler.", failure=False,
                event="test"))  # fmt: skip
    return {"deliveries": sent}


@router.post("/notifications/secret")
async def rotate_secret(daemon: Daemon = Depends(get_daemon)) -> dict[str, Any]:
    """A new signing secret, shown once (settings never read it back)."""
    return {"secret": await daemon.integrations.rotate_secret(), "header": "X-Subtitler-Signature"}
