"""Jellyfin (Webhook plugin, generic destination), Emby (built-in webhooks), Plex (webhooks,
multipart `payload`) and Tautulli (Webhook agent, JSON data).

Shapes: the Jellyfin webhook plugin's data object (`NotificationType`, `ItemId`, `ItemType`,
`Name`: what "Send All Properties" posts, and what the template in the README posts); Emby's
webhook JSON (`Event`, `Item.Id`, `Item.Path`, `Item.Type`); Plex's documented payload (`event`,
`Metadata.ratingKey`, `Metadata.type`, `Metadata.librarySectionID`); Tautulli's notification
parameters (`{action}`, `{file}`, `{rating_key}`, `{media_type}`) in the JSON the README gives.
"""

from __future__ import annotations

from typing import Any

from subtitler.integrations.parsers.common import (
    IMPORT,
    PLAYBACK,
    TEST,
    Inbound,
    MalformedWebhook,
    obj,
    text,
)

VIDEO_TYPES = {"movie", "episode", "video", "musicvideo", "clip", "trailer"}
PLEX_CONTAINERS = {"show", "season"}  # looked up as all their episodes


def _kind_or_ignored(event: str, kinds: dict[str, str], sender: str) -> str | Inbound:
    kind = kinds.get(event)
    if kind is None:
        return Inbound.ignored(event, f"{sender} event {event!r} is not an import or playback")
    return kind


def _not_video(event: str, item_type: str | None, allowed: set[str]) -> Inbound | None:
    if item_type and item_type.lower() not in allowed:
        return Inbound.ignored(event, f"item type {item_type} is not a video")
    return None


def parse_jellyfin(body: dict[str, Any]) -> Inbound:
    event = text(body.get("NotificationType"))
    if event is None:
        raise MalformedWebhook("no NotificationType: use the template from the README")
    kind = _kind_or_ignored(event, {"ItemAdded": IMPORT, "PlaybackStart": PLAYBACK}, "Jellyfin")
    if isinstance(kind, Inbound):
        return kind
    title = text(body.get("Name"))
    skip = _not_video(event, text(body.get("ItemType")), VIDEO_TYPES)
    if skip is not None:
        return skip
    path, item_id = text(body.get("Path")), text(body.get("ItemId"))
    if path is None and item_id is None:
        raise MalformedWebhook(f"Jellyfin {event} without ItemId")
    return Inbound(
        event=event, kind=kind, paths=[path] if path else [],
        item_ids=[] if path else [str(item_id)], title=title,
    )  # fmt: skip


def parse_emby(body: dict[str, Any]) -> Inbound:
    event = text(body.get("Event"))
    if event is None:
        raise MalformedWebhook("no Event: is this an Emby webhook?")
    event = event.lower()  # some Emby versions and plugins send "Library.New"
    if event == "system.notificationtest":
        return Inbound(event=event, kind=TEST)
    kind = _kind_or_ignored(event, {"library.new": IMPORT, "playback.start": PLAYBACK}, "Emby")
    if isinstance(kind, Inbound):
        return kind
    item = obj(body.get("Item"), "Item")
    skip = _not_video(event, text(item.get("Type")), VIDEO_TYPES)
    if skip is not None:
        return skip
    path, item_id = text(item.get("Path")), item.get("Id")
    if path is None and item_id in (None, ""):
        raise MalformedWebhook(f"Emby {event} without Item.Path or Item.Id")
    return Inbound(
        event=event, kind=kind, paths=[path] if path else [],
        item_ids=[] if path else [str(item_id)], title=text(item.get("Name")),
    )  # fmt: skip


def parse_plex(body: dict[str, Any]) -> Inbound:
    event = text(body.get("event"))
    if event is None:
        raise MalformedWebhook("no event: is this a Plex webhook (multipart field payload)?")
    kind = _kind_or_ignored(event, {"library.new": IMPORT, "media.play": PLAYBACK}, "Plex")
    if isinstance(kind, Inbound):
        return kind
    meta = obj(body.get("Metadata"), "Metadata")
    skip = _not_video(event, text(meta.get("type")), VIDEO_TYPES | PLEX_CONTAINERS)
    if skip is not None:
        return skip
    key = meta.get("ratingKey")
    if key in (None, ""):
        raise MalformedWebhook(f"Plex {event} without Metadata.ratingKey")
    return Inbound(event=event, kind=kind, item_ids=[str(key)], title=text(meta.get("title")))


TAUTULLI_EVENTS = {
    "added": IMPORT, "created": IMPORT, "recently_added": IMPORT,
    "played": PLAYBACK, "play": PLAYBACK, "playback.start": PLAYBACK,
}  # fmt: skip


def parse_tautulli(body: dict[str, Any]) -> Inbound:
    event = text(body.get("event")) or text(body.get("action"))
    if event is None:
        raise MalformedWebhook('no "event": use the JSON data from the README')
    if event.lower() == "test":
        return Inbound(event=event, kind=TEST)
    kind = _kind_or_ignored(event.lower(), TAUTULLI_EVENTS, "Tautulli")
    if isinstance(kind, Inbound):
        return kind
    skip = _not_video(event, text(body.get("media_type")), VIDEO_TYPES | PLEX_CONTAINERS)
    if skip is not None:
        return skip
    path, key = text(body.get("file")), body.get("rating_key")
    if path is None and key in (None, ""):
        raise MalformedWebhook(f"Tautulli {event} without file or rating_key")
    return Inbound(
        event=event, kind=kind, paths=[path] if path else [],
        item_ids=[] if path else [str(key)], title=text(body.get("title")),
    )  # fmt: skip
