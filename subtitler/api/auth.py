"""*arr-style API key auth as a small ASGI middleware.

The key is accepted as `X-Api-Key`, `?apikey=`, `Authorization: Bearer`, or as the password (or
user name) of HTTP Basic auth, which is the only way Bazarr can send a secret. With `auth_mode`
`local_exempt`, loopback and private-LAN peers need no key, unless the request carries proxy
headers and the peer is not a trusted proxy.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import secrets
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from subtitler.api import stream_token

PROTECTED_PREFIXES = ("/api/", "/asr", "/detect-language", "/v1/")
OPEN_PATHS = frozenset({"/api/health"})
MISSING_KEY_DETAIL = (
    "API key required: send X-Api-Key, ?apikey=, Bearer, or Basic auth with the key as the "
    "password (`subtitler api-key` prints it)"
)
PROXY_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def needs_auth(path: str) -> bool:
    return path not in OPEN_PATHS and path.startswith(PROTECTED_PREFIXES)


def _parse_ip(text: str | None) -> IpAddress | None:
    if not text:
        return None
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6]:port
        text = text[1 : text.find("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        return addr.ipv4_mapped
    return addr


LOCAL_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)


def _is_local(addr: IpAddress) -> bool:
    """Loopback, RFC 1918 / ULA private LANs and link-local: not every range Python calls
    private (documentation and benchmarking ranges are not anybody's LAN)."""
    return any(addr in net for net in LOCAL_NETWORKS if addr.version == net.version)


def _in_networks(addr: IpAddress, networks: Iterable[str]) -> bool:
    for net in networks:
        try:
            if addr in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


def _forwarded_chain(headers: dict[bytes, bytes]) -> list[str]:
    """Client addresses named by proxy headers, nearest proxy last."""
    chain: list[str] = []
    forwarded = headers.get(b"forwarded")
    if forwarded:
        for element in forwarded.decode("latin-1").split(","):
            for pair in element.split(";"):
                name, _, value = pair.strip().partition("=")
                if name.lower() == "for":
                    chain.append(value)
    xff = headers.get(b"x-forwarded-for")
    if xff:
        chain.extend(part.strip() for part in xff.decode("latin-1").split(","))
    real = headers.get(b"x-real-ip")
    if real and not chain:
        chain.append(real.decode("latin-1"))
    return chain


def client_is_local(peer: str | None, headers: dict[bytes, bytes], trusted: list[str]) -> bool:
    """Whether the real client is on loopback/LAN, believing proxy headers only from trusted
    proxies (walk the chain from the nearest hop back while hops are trusted)."""
    addr = _parse_ip(peer)
    if addr is None:
        return False
    if not any(h in headers for h in PROXY_HEADERS):
        return _is_local(addr)
    if not _in_networks(addr, trusted):
        return False  # proxy headers from an untrusted peer: never local
    for hop in reversed(_forwarded_chain(headers)):
        hop_addr = _parse_ip(hop)
        if hop_addr is None:
            return False
        if _in_networks(hop_addr, trusted):
            continue
        return _is_local(hop_addr)
    return _is_local(addr)


def presented_keys(headers: dict[bytes, bytes], query_string: bytes) -> list[str]:
    keys: list[str] = []
    if b"x-api-key" in headers:
        keys.append(headers[b"x-api-key"].decode("latin-1").strip())
    query = parse_qs(query_string.decode("latin-1"))
    keys.extend(query.get("apikey", []))
    auth = headers.get(b"authorization", b"").decode("latin-1").strip()
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        keys.append(value.strip())
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        user, _, password = decoded.partition(":")
        keys.extend(k for k in (password, user) if k)
    return [k for k in keys if k]


def _stream_token_ok(scope: Scope) -> bool:
    """The event stream also opens with a short-lived token (subtitler/api/stream_token.py)."""
    tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [])
    return any(stream_token.valid(t) for t in tokens)


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, *, settings_reader: Callable[[str], Any]) -> None:
        self.app = app
        self._setting = settings_reader

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not needs_auth(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["path"] == stream_token.STREAM_PATH and _stream_token_ok(scope):
            await self.app(scope, receive, send)
            return
        api_key = str(self._setting("api_key") or "")
        keys = presented_keys(headers, scope.get("query_string", b""))
        if api_key and any(secrets.compare_digest(k.encode(), api_key.encode()) for k in keys):
            await self.app(scope, receive, send)
            return
        if self._setting("auth_mode") == "local_exempt":
            client = scope.get("client")
            peer = client[0] if client else None
            if client_is_local(peer, headers, list(self._setting("trusted_proxies") or [])):
                await self.app(scope, receive, send)
                return
        detail = "Invalid API key" if keys else MISSING_KEY_DETAIL
        body = json.dumps({"detail": detail, "code": "unauthorized"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="subtitler"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
