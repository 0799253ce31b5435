"""One parser per sender: a decoded JSON body in, an `Inbound` out (or MalformedWebhook)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from subtitler.integrations.parsers.arr import parse_radarr, parse_sonarr
from subtitler.integrations.parsers.common import (
    IGNORED,
    IMPORT,
    PLAYBACK,
    TEST,
    Inbound,
    MalformedWebhook,
    decode_body,
)
from subtitler.integrations.parsers.media import (
    parse_emby,
    parse_jellyfin,
    parse_plex,
    parse_tautulli,
)

PARSERS: dict[str, Callable[[dict[str, Any]], Inbound]] = {
    "sonarr": parse_sonarr,
    "radarr": parse_radarr,
    "jellyfin": parse_jellyfin,
    "emby": parse_emby,
    "plex": parse_plex,
    "tautulli": parse_tautulli,
}

__all__ = [
    "IGNORED",
    "IMPORT",
    "PARSERS",
    "PLAYBACK",
    "TEST",
    "Inbound",
    "MalformedWebhook",
    "decode_body",
]
