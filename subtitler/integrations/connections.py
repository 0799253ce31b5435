"""What the Connections page and the wizard step show: the URL to paste into each sender, the
templates for the senders that need one, a server test (reach it with the token, list its
libraries, map one real example path), and a path-mapping preview."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

from subtitler.errors import BadRequest
from subtitler.integrations.paths import to_ours
from subtitler.integrations.servers import Server
from subtitler.security.outbound import check_url
from subtitler.settings.specs.integrations import SENDERS, SERVERS

# Jellyfin: Dashboard > Plugins > Webhook > Add Generic Destination > Template.
JELLYFIN_TEMPLATE = (  # GUIDs and type names only: always valid JSON
    '{"NotificationType": "{{NotificationType}}", "ItemId": "{{ItemId}}", '
    '"ItemType": "{{ItemType}}"}'
)
# Tautulli: Settings > Notification Agents > Webhook > Data > JSON Data
# (Recently Added, Playback Start).
TAUTULLI_TEMPLATES = {
    "on_created": '{"event": "added", "file": "{file}", "rating_key": "{rating_key}", '
    '"media_type": "{media_type}", "title": "{title}"}',
    "on_play": '{"event": "played", "file": "{file}", "rating_key": "{rating_key}", '
    '"media_type": "{media_type}", "title": "{title}"}',
}


def webhook_url(base_url: str, sender: str, api_key: str) -> str:
    return f"{base_url.rstrip('/')}/api/webhooks/{sender}?apikey={quote(api_key)}"


def overview(*, settings: Any, base_url: str) -> dict[str, Any]:
    key = str(settings.get("api_key") or "")
    return {
        "senders": [
            {"name": s, "enabled": bool(settings.get(f"webhook_{s}_enabled")),
             "webhook_url": webhook_url(base_url, s, key)}
            for s in SENDERS
        ],
        "servers": [
            {"name": s, "url": settings.get(f"{s}_url") or "",
             "configured": Server.from_settings(s, settings) is not None}
            for s in SERVERS
        ],
        "path_mappings": settings.get("path_mappings") or [],
        "playback_enabled": bool(settings.get("webhook_playback_enabled")),
        "templates": {"jellyfin": JELLYFIN_TEMPLATE, **{f"tautulli_{k}": v
                                                        for k, v in TAUTULLI_TEMPLATES.items()}},
        "signature_header": "X-Subtitler-Signature",
    }  # fmt: skip


async def test_server(
    *, name: str, settings: Any, url: str | None = None, api_key: str | None = None
) -> dict[str, Any]:
    """Reach `name` with its token (the saved one unless given) and list its libraries."""
    if name not in SERVERS:
        raise BadRequest(f"unknown server {name!r}; one of {', '.join(SERVERS)}",
                         code="unknown_server")  # fmt: skip
    url = (url or settings.get(f"{name}_url") or "").rstrip("/")
    token = api_key or settings.get(f"{name}_api_key") or ""
    if not url or not token:
        raise BadRequest(f"set the {name} URL and API key first", code="server_not_configured")
    check_url(url, field=f"{name}_url")  # never link-local / cloud metadata
    libraries = await Server(name, url, str(token)).libraries()
    example = None
    for lib in libraries:
        for path in lib.get("paths") or []:
            if path:
                example = await preview(path=str(path), settings=settings)
                break
        if example:
            break
    return {"ok": True, "server": name, "libraries": libraries, "example": example}


async def preview(
    *, path: str, settings: Any, mappings: list[list[str]] | None = None
) -> dict[str, Any]:
    """Their path -> ours under the saved (or given) mappings, and whether ours exists here."""
    pairs = mappings if mappings is not None else settings.get("path_mappings") or []
    ours = to_ours(path, pairs)
    exists = await asyncio.to_thread(Path(ours).exists) if ours else False
    return {"their_path": path, "our_path": ours, "mapped": ours is not None, "exists": exists}
