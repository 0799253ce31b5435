"""Where subtitler may send requests (SSRF guard): job `callback_url`s, media-server URLs
(Jellyfin, Emby, Plex, the *arrs, Tautulli), outbound webhooks and translation providers.

Never link-local addresses (169.254.0.0/16, fe80::/10: the cloud metadata services live there),
the other metadata addresses (fd00:ec2::254, Alibaba's 100.100.100.200, metadata.google.internal),
unspecified, multicast or broadcast addresses. Private LANs are allowed: a Jellyfin or a
LibreTranslate on the LAN is the normal case. Loopback is allowed for servers and providers the
admin configures (a LibreTranslate on the same machine), but for a job's `callback_url`, which any
API client sets, only when `callback_allow_loopback` is on.

Checked when a URL is saved or given (literal addresses and known names, no DNS) and again when a
request leaves (host names resolved), by the httpx transports below.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx

from subtitler.errors import BadRequest

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "fe80::/10",  # link-local
        "0.0.0.0/8",  # "this host" / unspecified
        "::/128",
        "224.0.0.0/4",  # multicast
        "ff00::/8",
        "255.255.255.255/32",
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "fd00:ec2::254/128",  # AWS metadata over IPv6
    )
)
BLOCKED_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})


class OutboundRefused(httpx.TransportError):
    """A request to an address subtitler must not reach; never sent."""


def _address(text: str) -> IpAddress | None:
    try:
        addr = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        return addr.ipv4_mapped
    return addr


def address_problem(addr: IpAddress, *, loopback: bool) -> str | None:
    if any(addr.version == net.version and addr in net for net in BLOCKED):
        return f"{addr} is a link-local, metadata or non-unicast address"
    if addr.is_loopback and not loopback:
        return f"{addr} is this machine (loopback)"
    return None


def literal_problem(url: str, *, loopback: bool = True) -> str | None:
    """What is wrong with `url`'s host without asking DNS: None when it may be used."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return "not a URL"
    if not host:
        return "the URL has no host"
    if host in BLOCKED_NAMES:
        return f"{host} is a cloud metadata service"
    if not loopback and (host == "localhost" or host.endswith(".localhost")):
        return f"{host} is this machine (loopback)"
    addr = _address(host)
    return address_problem(addr, loopback=loopback) if addr is not None else None


def resolved_problem(url: str, *, loopback: bool = True) -> str | None:
    """`literal_problem`, then every address the host name resolves to (blocking: DNS)."""
    problem = literal_problem(url, loopback=loopback)
    if problem is not None:
        return problem
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _address(host) is not None:
        return None
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None  # unresolvable: the request itself fails with a clear error
    for info in infos:
        addr = _address(str(info[4][0]))
        if addr is not None and (found := address_problem(addr, loopback=loopback)):
            return f"{host} resolves to {found}"
    return None


def check_url(url: str, *, field: str, loopback: bool = True) -> None:
    """400 `url_not_allowed` for a URL subtitler must never call (no DNS asked)."""
    problem = literal_problem(url, loopback=loopback)
    if problem is not None:
        hint = "" if loopback else " (set callback_allow_loopback to allow this machine)"
        raise BadRequest(f"{field}: {problem}: not allowed{hint}", code="url_not_allowed")


def setting_check(value: object) -> None:
    """For URL settings (servers, providers, webhooks): ValueError when it may not be called."""
    if value in ("", None):
        return
    problem = literal_problem(str(value))
    if problem is not None:
        raise ValueError(f"{problem}: subtitler never calls such addresses")


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport that refuses (OutboundRefused) blocked addresses after DNS."""

    def __init__(self, *, loopback: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loopback = loopback

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        problem = await asyncio.to_thread(
            resolved_problem, str(request.url), loopback=self._loopback
        )
        if problem is not None:
            raise OutboundRefused(f"refused: {problem}", request=request)
        return await super().handle_async_request(request)


class GuardedSyncTransport(httpx.HTTPTransport):
    """GuardedTransport for synchronous clients (the translation providers' worker threads)."""

    def __init__(self, *, loopback: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loopback = loopback

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        problem = resolved_problem(str(request.url), loopback=self._loopback)
        if problem is not None:
            raise OutboundRefused(f"refused: {problem}", request=request)
        return super().handle_request(request)
