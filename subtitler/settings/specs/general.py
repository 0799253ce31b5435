"""General settings: auth (read by subtitler.api.auth) and setup state (subtitler.setup)."""

from __future__ import annotations

import ipaddress
import re

from subtitler.settings.registry import SettingSpec

API_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


def _check_networks(values: list[str]) -> None:
    for item in values:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network") from None


def _check_api_key(value: str) -> None:
    if not API_KEY_PATTERN.match(value):
        raise ValueError("must be 20-128 characters of letters, digits, '-' or '_'")


SPECS = [
    SettingSpec(
        key="auth_mode",
        category="general",
        value_type="string",
        default="local_exempt",
        choices=("local_exempt", "always"),
        description=(
            "API key required: 'local_exempt' lets loopback and private-LAN clients in without a "
            "key; 'always' asks every client for it. Read by the API's auth check."
        ),
    ),
    SettingSpec(
        key="trusted_proxies",
        advanced=True,
        category="general",
        value_type="list",
        default=[],
        check=_check_networks,
        description=(
            "Reverse proxies (IPs or CIDR networks) whose X-Forwarded-For/Forwarded headers are "
            "believed. A request carrying those headers from any other peer is never local."
        ),
    ),
    SettingSpec(
        key="api_key",
        category="general",
        value_type="string",
        default="",
        secret=True,
        check=lambda v: None if v == "" else _check_api_key(v),
        description=(
            "The API key (X-Api-Key, ?apikey=, Bearer, or the Basic-auth password). Generated at "
            "first start; `subtitler api-key` prints it."
        ),
    ),
    SettingSpec(
        key="setup_completed",
        internal=True,
        category="general",
        value_type="boolean",
        default=False,
        description="Whether the setup wizard was completed or skipped. Read by the setup wizard.",
    ),
    SettingSpec(
        key="operation_mode",
        internal=True,
        category="general",
        value_type="string",
        default="",
        choices=("", "standalone", "bazarr_slave", "skipped"),
        description="The mode chosen in the setup wizard (standalone, bazarr_slave or skipped).",
    ),
    SettingSpec(
        key="log_polling_requests",
        category="general",
        value_type="boolean",
        default=False,
        advanced=True,
        description=(
            "Also write the web page's own status checks to the log (a line every few seconds "
            "while a page is open). Off keeps the log readable; changes, errors and requests "
            "from other programs are always logged."
        ),
    ),
]
