"""Inbound webhooks, media-server refresh and notifications (issue 10): read by
subtitler.integrations (intake, servers, refresh, notify)."""

from __future__ import annotations

from urllib.parse import urlsplit

from subtitler.security.outbound import setting_check as outbound_setting_check
from subtitler.settings.registry import SettingSpec

SENDERS = ("sonarr", "radarr", "jellyfin", "emby", "plex", "tautulli")
SERVERS = ("jellyfin", "emby", "plex", "sonarr", "radarr", "tautulli")
NOTIFY_EVENTS = ("job.completed", "job.failed", "scan.finished", "worker.error")


def _check_url(value: object) -> None:
    if value in ("", None):
        return
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL, e.g. http://jellyfin:8096")
    outbound_setting_check(value)


def _check_webhooks(value: object) -> None:
    if not isinstance(value, list):
        raise ValueError('expected a list of {"url": ..., "events": [...]} objects')
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise ValueError('each webhook needs a "url"')
        _check_url(item["url"])
        events = item.get("events", list(NOTIFY_EVENTS))
        if not isinstance(events, list) or any(e not in NOTIFY_EVENTS for e in events):
            raise ValueError(f"events must be a list of {', '.join(NOTIFY_EVENTS)}")


def _check_apprise(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(u, str) and "://" in u for u in value):
        raise ValueError('expected a list of Apprise URLs such as "ntfy://topic"')


def _switch(sender: str) -> SettingSpec:
    return SettingSpec(
        key=f"webhook_{sender}_enabled",
        category="integrations",
        value_type="boolean",
        default=True,
        description=f"Accept {sender.capitalize()} webhooks at /api/webhooks/{sender}.",
    )


def _server(name: str, token_word: str) -> list[SettingSpec]:
    return [
        SettingSpec(
            key=f"{name}_url",
            category="integrations",
            value_type="string",
            default="",
            check=_check_url,
            description=f"{name.capitalize()} server URL (empty: not connected).",
        ),
        SettingSpec(
            key=f"{name}_api_key",
            category="integrations",
            value_type="string",
            default="",
            secret=True,
            description=f"{name.capitalize()} {token_word}, used for look-ups, tests and refresh.",
        ),
    ]


SPECS: list[SettingSpec] = [
    *(_switch(sender) for sender in SENDERS),
    SettingSpec(
        key="webhook_playback_enabled",
        category="integrations",
        value_type="boolean",
        default=True,
        description=(
            "Subtitle what someone starts watching (Jellyfin PlaybackStart, Emby playback.start, "
            "Plex media.play, Tautulli played)."
        ),
    ),
    SettingSpec(
        key="webhook_playback_priority",
        category="integrations",
        value_type="integer",
        default=50,
        minimum=-1000,
        maximum=1000,
        description=(
            "Queue priority of jobs from playback triggers (higher runs first); a job already "
            "queued for that file is raised to it."
        ),
    ),
    *_server("jellyfin", "API key (Dashboard > API Keys)"),
    *_server("emby", "API key (Settings > Advanced > API Keys)"),
    *_server("plex", "token (X-Plex-Token)"),
    *_server("sonarr", "API key (Settings > General)"),
    *_server("radarr", "API key (Settings > General)"),
    *_server("tautulli", "API key (Settings > Web Interface)"),
    SettingSpec(
        key="media_server_refresh",
        category="integrations",
        value_type="list",
        default=["jellyfin", "emby", "plex"],
        choices=("jellyfin", "emby", "plex"),
        description=(
            "After a subtitle is written, ask these connected servers to pick it up "
            "(path_mappings applied in reverse). A failure is logged on the job only."
        ),
    ),
    SettingSpec(
        key="notify_webhooks",
        category="integrations",
        value_type="json",
        default=[],
        check=_check_webhooks,
        description=(
            'Signed webhooks: [{"url": "https://...", "events": ["job.failed", ...]}]. Events: '
            + ", ".join(NOTIFY_EVENTS)
            + ". Signed with notify_signing_secret (X-Subtitler-Signature)."
        ),
    ),
    SettingSpec(
        key="notify_signing_secret",
        category="integrations",
        value_type="string",
        default="",
        secret=True,
        description=(
            "HMAC-SHA256 secret for X-Subtitler-Signature on webhooks and job callbacks "
            "(generated at first start; rotate from the Connections page)."
        ),
    ),
    SettingSpec(
        key="callback_allow_loopback",
        category="integrations",
        value_type="boolean",
        default=False,
        description=(
            "Allow a job's callback_url to name this machine (127.0.0.1, localhost). Off: any "
            "API client could make subtitler call services that listen on loopback only. "
            "Link-local and cloud metadata addresses are refused whatever this says."
        ),
    ),
    SettingSpec(
        key="notify_retries",
        category="integrations",
        value_type="integer",
        default=5,
        minimum=0,
        maximum=20,
        description="Retries of a failed webhook or callback delivery (backoff doubles each time).",
    ),
    SettingSpec(
        key="notify_retry_seconds",
        category="integrations",
        value_type="float",
        default=10.0,
        minimum=0.05,
        maximum=3600,
        description="Wait before the first retry; each further retry waits twice as long.",
    ),
    SettingSpec(
        key="apprise_urls",
        category="integrations",
        value_type="json",
        default=[],
        secret=True,
        check=_check_apprise,
        description=(
            "Apprise URLs for human notifications (Discord, Telegram, ntfy, email, ...), e.g. "
            '["ntfy://my-topic"]. Failures are sent; completions if apprise_on_completed.'
        ),
    ),
    SettingSpec(
        key="apprise_on_completed",
        category="integrations",
        value_type="boolean",
        default=False,
        description="Also send a human notification when a job completes.",
    ),
    SettingSpec(
        key="apprise_digest_seconds",
        category="integrations",
        value_type="float",
        default=300.0,
        minimum=0.1,
        maximum=86400,
        description=(
            "After a message is sent, further events within this many seconds are gathered "
            "into one digest message (a failing library does not send 500 messages)."
        ),
    ),
]
