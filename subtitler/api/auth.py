"""*arr-style API key auth as a small ASGI middleware.

The key is accepted as `X-Api-Key`, `?apikey=`, `Authorization: Bearer`, or as the password (or
user name) of HTTP Basic auth, which is the only way Bazarr can send a secret. Whether a presented
key is valid is decided by ONE callable, `KeyVerifier` (by default `settings_key_verifier`); named
API tokens plug in by wrapping it. With `auth_mode` `local_exempt`, loopback and private-LAN peers
need no key, unless the request is a cross-origin browser request (see subtitler.api.guard) or
carries proxy headers from a peer that is not a trusted proxy.

Behind a proxy, only the one header named by the `proxy_header` setting is read, walked right to
left over trusted hops (the nearest proxy appends last): what a client wrote further left is
never believed.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
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
HEADER_NAMES = {"X-Forwarded-For": b"x-forwarded-for", "X-Real-IP": b"x-real-ip",
                "Forwarded": b"forwarded"}  # fmt: skip

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
KeyVerifier = Callable[[str], Any]
"""The one place keys are checked: given one presented secret, a truthy value when it is valid
(True for the daemon's key; a named API token may return its principal, e.g. with scopes, which
is kept in `scope["state"]["subtitler_principal"]` for the routes to read)."""


def needs_auth(path: str) -> bool:
    return path not in OPEN_PATHS and path.startswith(PROTECTED_PREFIXES)


def settings_key_verifier(settings_reader: Callable[[str], Any]) -> KeyVerifier:
    """The daemon's API key from settings, read on every call (so a new key applies at once)."""

    def verify(candidate: str) -> bool:
        api_key = str(settings_reader("api_key") or "")
        if not api_key or not candidate:
            return False
        return secrets.compare_digest(candidate.encode(), api_key.encode())

    return verify


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


def header_values(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> list[str]:
    """Every instance of a header (a client may repeat one), in order."""
    return [value.decode("latin-1") for key, value in headers if key.lower() == name]


def _hops(headers: Sequence[tuple[bytes, bytes]], header: str) -> list[str] | None:
    """The client addresses named by the one trusted header, nearest proxy last; None when the
    header is absent or malformed in any way (an empty element, a Forwarded element without
    exactly one `for=`, a pair without `=`, X-Real-IP with other than exactly one value, or
    sent twice): an unknown client, never the proxy itself."""
    name = HEADER_NAMES.get(header, b"x-forwarded-for")
    values = header_values(headers, name)
    if not values:
        return None
    if name == b"x-real-ip":
        if len(values) != 1 or "," in values[0] or not values[0].strip():
            return None  # X-Real-IP names exactly one address
        return [values[0].strip()]
    hops: list[str] = []
    for value in values:
        for element in value.split(","):
            element = element.strip()
            if not element:
                return None
            if name != b"forwarded":
                hops.append(element)
                continue
            found: list[str] = []
            for pair in element.split(";"):
                key, eq, item = pair.strip().partition("=")
                if not eq or not key.strip() or not item.strip():
                    return None
                if key.strip().lower() == "for":
                    found.append(item.strip())
            if len(found) != 1:
                return None
            hops.append(found[0])
    return hops or None


def client_address(
    peer: str | None,
    headers: Sequence[tuple[bytes, bytes]] | dict[bytes, bytes],
    trusted: list[str],
    header: str = "X-Forwarded-For",
) -> IpAddress | None:
    """The real client's address, believing `header` only from trusted proxies and walking it
    right to left while hops are trusted. None when it cannot be known."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers)
    addr = _parse_ip(peer)
    if addr is None:
        return None
    present = {key.lower() for key, _ in items} & set(PROXY_HEADERS)
    if not present:
        return addr
    if not _in_networks(addr, trusted):
        return None  # proxy headers from a peer that is not a trusted proxy: unknown client
    hops = _hops(items, header)
    if hops is None:
        return None  # the proxy did not set the header we trust: we cannot tell who it is
    client = addr
    for hop in reversed(hops):
        hop_addr = _parse_ip(hop)
        if hop_addr is None:
            return None
        client = hop_addr
        if not _in_networks(hop_addr, trusted):
            return hop_addr
    return client


def client_is_local(
    peer: str | None,
    headers: Sequence[tuple[bytes, bytes]] | dict[bytes, bytes],
    trusted: list[str],
    header: str = "X-Forwarded-For",
) -> bool:
    """Whether the real client is on loopback/LAN (see `client_address`)."""
    addr = client_address(peer, headers, trusted, header)
    return addr is not None and _is_local(addr)


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


def has_valid_key(scope: Scope, verify_key: KeyVerifier) -> bool:
    """Whether the request presents a key `verify_key` accepts (cached in the scope)."""
    state = scope.setdefault("state", {})
    if "subtitler_key_ok" not in state:
        headers = dict(scope.get("headers") or [])
        keys = presented_keys(headers, scope.get("query_string", b""))
        principal = next((p for p in (verify_key(k) for k in keys) if p), None)
        state["subtitler_key_ok"] = principal is not None
        state["subtitler_principal"] = principal
        state["subtitler_key_presented"] = bool(keys)
    return bool(state["subtitler_key_ok"])


def _stream_token_ok(scope: Scope) -> bool:
    """The event stream also opens with a short-lived token (subtitler/api/stream_token.py)."""
    tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [])
    return any(stream_token.valid(t) for t in tokens)


class ApiKeyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings_reader: Callable[[str], Any],
        verify_key: KeyVerifier | None = None,
        key_check: Callable[[list[str], str], Any] | None = None,
    ) -> None:
        self.app = app
        self._setting = settings_reader
        self._verify = verify_key or settings_key_verifier(settings_reader)
        # (keys, path) -> a verdict with `allowed` and `forbidden` (named API tokens with scopes,
        # subtitler.tokens); without one, `verify_key` alone decides.
        self._key_check = key_check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not needs_auth(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["path"] == stream_token.STREAM_PATH and _stream_token_ok(scope):
            await self.app(scope, receive, send)
            return
        forbidden = False
        if self._key_check is not None:
            headers = dict(scope.get("headers") or [])
            keys = presented_keys(headers, scope.get("query_string", b""))
            scope.setdefault("state", {})["subtitler_key_presented"] = bool(keys)
            verdict = self._key_check(keys, scope["path"])
            allowed, forbidden = bool(verdict.allowed), bool(verdict.forbidden)
        else:
            allowed = has_valid_key(scope, self._verify)
        if allowed:
            await self.app(scope, receive, send)
            return
        cross_origin = bool(scope.get("state", {}).get("subtitler_cross_origin"))
        if self._setting("auth_mode") == "local_exempt" and not cross_origin:
            client = scope.get("client")
            peer = client[0] if client else None
            trusted = list(self._setting("trusted_proxies") or [])
            header = str(self._setting("proxy_header") or "X-Forwarded-For")
            if client_is_local(peer, list(scope.get("headers") or []), trusted, header):
                await self.app(scope, receive, send)
                return
        presented = scope.get("state", {}).get("subtitler_key_presented")
        detail = "Invalid API key" if presented else MISSING_KEY_DETAIL
        status, code = (403, "forbidden") if forbidden else (401, "unauthorized")
        if forbidden:
            detail = "This token's scope does not allow this route"
        body = json.dumps({"detail": detail, "code": code}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="subtitler"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
