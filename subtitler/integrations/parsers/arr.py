"""Sonarr v4 and Radarr v5 "Webhook" connections.

Shapes from their webhook payload classes (Sonarr `WebhookImportPayload`, `WebhookRenamePayload`,
`WebhookEpisodeFile`; Radarr `WebhookImportPayload`, `WebhookMovieFile`, `WebhookRenamedMovieFile`):
`eventType` Download (import and upgrade, `isUpgrade`), ImportComplete (Sonarr: `episodeFiles`),
Rename (`renamedEpisodeFiles` / `renamedMovieFiles`), Test; every other event is ignored.
"""

from __future__ import annotations

from typing import Any

from subtitler.integrations.parsers.common import (
    IMPORT,
    TEST,
    Inbound,
    MalformedWebhook,
    obj,
    text,
)

IMPORT_EVENTS = {"Download", "ImportComplete"}


def _paths(files: Any, where: str, key: str = "path") -> list[str]:
    if files is None:
        return []
    if isinstance(files, dict):
        files = [files]
    if not isinstance(files, list):
        raise MalformedWebhook(f"{where} must be an object or a list")
    paths: list[str] = []
    for item in files:
        path = text(obj(item, where).get(key))
        if path and path not in paths:
            paths.append(path)
    return paths


def _gone(body: dict[str, Any], renamed: str) -> list[str]:
    """Old paths: an upgrade's `deletedFiles`, a rename's `previousPath`s."""
    return _paths(body.get("deletedFiles"), "deletedFiles") + _paths(
        body.get(renamed), renamed, key="previousPath"
    )


def _event(body: dict[str, Any]) -> str:
    event = body.get("eventType")
    if not isinstance(event, str) or not event:
        raise MalformedWebhook("no eventType: is this a Sonarr/Radarr webhook?")
    return event


def parse_sonarr(body: dict[str, Any]) -> Inbound:
    event = _event(body)
    title = text(obj(body.get("series"), "series").get("title"))
    if event == "Test":
        return Inbound(event=event, kind=TEST, title=title)
    if event in IMPORT_EVENTS:
        paths = _paths(body.get("episodeFile"), "episodeFile")
        paths += [p for p in _paths(body.get("episodeFiles"), "episodeFiles") if p not in paths]
    elif event == "Rename":
        paths = _paths(body.get("renamedEpisodeFiles"), "renamedEpisodeFiles")
    else:
        return Inbound.ignored(event, f"Sonarr event {event} does not bring a new file")
    if not paths:
        raise MalformedWebhook(f"Sonarr {event} without an episode file path")
    gone = [p for p in _gone(body, "renamedEpisodeFiles") if p not in paths]
    return Inbound(event=event, kind=IMPORT, paths=paths, title=title, gone=gone)


def parse_radarr(body: dict[str, Any]) -> Inbound:
    event = _event(body)
    title = text(obj(body.get("movie"), "movie").get("title"))
    if event == "Test":
        return Inbound(event=event, kind=TEST, title=title)
    if event in IMPORT_EVENTS:
        paths = _paths(body.get("movieFile"), "movieFile")
    elif event == "Rename":
        paths = _paths(body.get("renamedMovieFiles"), "renamedMovieFiles")
    else:
        return Inbound.ignored(event, f"Radarr event {event} does not bring a new file")
    if not paths:
        raise MalformedWebhook(f"Radarr {event} without a movie file path")
    gone = [p for p in _gone(body, "renamedMovieFiles") if p not in paths]
    return Inbound(event=event, kind=IMPORT, paths=paths, title=title, gone=gone)
