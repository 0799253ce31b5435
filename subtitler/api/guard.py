"""The outermost request guard: what a web page on the LAN or a careless client must not do.

In order, before anything else sees the request:
1. NUL bytes or absurd lengths in the path or query -> 400 / 414.
2. Host allow-list (DNS rebinding): IP literals, localhost, this machine's names and the
   `allowed_hosts` setting; other hosts get 400 unless the request carries a valid API key (a
   browser asking for HTML gets a static page naming SUBTITLER_ALLOWED_HOSTS: api/host_page.py).
3. Cross-origin browser requests (Origin, else Referer, else Sec-Fetch-Site) are marked so the
   auth middleware never exempts them; a state-changing one without a valid key gets 403.
4. Bodies: uploads are bounded by `max_upload_mib` (Content-Length checked here, streaming in
   subtitler.asr.upload); every other body is read up to `max_json_body_kib` (413 above), must be
   JSON under /api/ (415), and may not hold NaN/Infinity or NUL characters (400).
5. Any exception that escapes a route becomes a JSON reply here and is not re-raised, so the
   server never drops the keep-alive connection (see subtitler.api.failures).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from subtitler.api.auth import KeyVerifier, has_valid_key, header_values
from subtitler.api.failures import reply_for_exception
from subtitler.api.host_page import HEADERS as PAGE_HEADERS
from subtitler.api.host_page import host_page, wants_html
from subtitler.security.hosts import host_allowed, origin_of, same_origin

logger = logging.getLogger(__name__)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UPLOAD_PREFIXES = ("/asr", "/detect-language", "/v1/audio/")
JSON_PREFIX = "/api/"
# Senders we do not control (Plex posts multipart, others text): their routes judge the body.
FREE_BODY_PREFIXES = ("/api/webhooks/",)
WEBHOOK_BODY_BYTES = 4 * 1024 * 1024  # subtitler.api.routes.webhooks.MAX_BODY
MAX_PATH_CHARS = 4096
MAX_QUERY_CHARS = 16384


def is_upload_path(path: str) -> bool:
    return path.startswith(UPLOAD_PREFIXES)


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        return True
    return media.startswith("application/") and media.endswith("+json")


def _reject_constant(name: str) -> Any:
    raise _BadJson(f"{name} is not a valid JSON number")


_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads keeps an unpaired "\\ud800"


class _BadJson(ValueError):
    pass


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _BadJson("NUL characters are not allowed in strings")
            if _SURROGATE.search(item):
                raise _BadJson(
                    "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff): not valid text"
                )
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


Headers = list[tuple[bytes, bytes]]


async def send_error(
    send: Send, status: int, detail: str, code: str, headers: Headers | None = None
) -> None:
    body = json.dumps({"detail": detail, "code": code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_page(send: Send, status: int, body: bytes, *, head: bool = False) -> None:
    headers = [*PAGE_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


class GuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings_reader: Callable[[str], Any],
        verify_key: KeyVerifier,
        extra_hosts: Callable[[], list[str]] | None = None,
    ) -> None:
        self.app = app
        self._setting = settings_reader
        self._verify = verify_key
        self._extra_hosts = extra_hosts or (lambda: [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._guard(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                logger.exception("error after the reply started on %s", scope.get("path"))
                return
            status, detail, code = reply_for_exception(exc, scope)
            await send_error(send, status, detail, code)

    async def _guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        if "\x00" in path or b"\x00" in unquote_to_bytes(query):
            await send_error(send, 400, "NUL bytes are not allowed in the URL", "nul_byte")
            return
        if len(path) > MAX_PATH_CHARS or len(query) > MAX_QUERY_CHARS:
            await send_error(send, 414, "the URL is too long", "uri_too_long")
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        host = (header_values(headers, b"host") or [""])[0]
        key_ok = has_valid_key(scope, self._verify)
        allowed = list(self._setting("allowed_hosts") or []) + self._extra_hosts()
        if not key_ok and not host_allowed(host, allowed):
            accept = (header_values(headers, b"accept") or [""])[0]
            if wants_html(scope["method"], accept):  # a person in a browser: say what to do
                await send_page(send, 400, host_page(host), head=scope["method"] == "HEAD")
                return
            shown = host if len(host) <= 100 else host[:100] + "..."
            await send_error(
                send,
                400,
                f"Host {shown!r} is not allowed: add it to the allowed_hosts setting, use the "
                "IP address, or send the API key",
                "host_not_allowed",
            )
            return
        if self._cross_origin(headers, host):
            scope.setdefault("state", {})["subtitler_cross_origin"] = True
            if scope["method"] in STATE_CHANGING and not key_ok:
                await send_error(
                    send,
                    403,
                    "cross-origin request refused: a web page from another site may not change "
                    "subtitler (send the API key, or add the origin to allowed_origins)",
                    "cross_origin",
                )
                return
        await self._with_body_limits(scope, receive, send, headers)

    def _cross_origin(self, headers: list[tuple[bytes, bytes]], host: str) -> bool:
        origin = (header_values(headers, b"origin") or [""])[0].strip()
        if not origin:
            referer = (header_values(headers, b"referer") or [""])[0].strip()
            origin = origin_of(referer) if referer else ""
        if origin:
            if origin == "null":
                return True
            if same_origin(origin, host):
                return False
            return origin.rstrip("/") not in list(self._setting("allowed_origins") or [])
        fetch_site = (header_values(headers, b"sec-fetch-site") or [""])[0].strip().lower()
        return fetch_site == "cross-site"

    async def _with_body_limits(
        self, scope: Scope, receive: Receive, send: Send, headers: list[tuple[bytes, bytes]]
    ) -> None:
        path: str = scope["path"]
        length_text = (header_values(headers, b"content-length") or [""])[0].strip()
        chunked = bool(header_values(headers, b"transfer-encoding"))
        try:
            length = int(length_text) if length_text else None
        except ValueError:
            await send_error(send, 400, "Content-Length is not a number", "bad_content_length")
            return
        if not chunked and not length:
            await self.app(scope, receive, send)  # no body
            return
        if is_upload_path(path):
            limit = int(self._setting("max_upload_mib")) * 1024 * 1024
            if length is not None and length > limit:
                await send_error(send, 413, _too_large("upload", limit), "upload_too_large",
                                 [(b"connection", b"close")])  # fmt: skip
                return
            await self.app(scope, receive, send)  # streamed to disk, counted there
            return
        limit = int(self._setting("max_json_body_kib")) * 1024
        if path.startswith(FREE_BODY_PREFIXES):  # the route's own cap (an 800-episode import)
            limit = max(limit, WEBHOOK_BODY_BYTES)
        if length is not None and length > limit:
            await send_error(send, 413, _too_large("request body", limit), "body_too_large",
                             [(b"connection", b"close")])  # fmt: skip
            return
        content_type = (header_values(headers, b"content-type") or [""])[0]
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
            if len(body) > limit:
                await send_error(send, 413, _too_large("request body", limit), "body_too_large",
                                 [(b"connection", b"close")])  # fmt: skip
                return
        if (
            path.startswith(JSON_PREFIX)
            and not path.startswith(FREE_BODY_PREFIXES)
            and not _is_json_type(content_type)
        ):
            await send_error(
                send,
                415,
                "send the request body as JSON with Content-Type: application/json",
                "unsupported_media_type",
            )
            return
        if _is_json_type(content_type):
            problem = _json_problem(bytes(body))
            if problem:
                await send_error(send, 400, problem, "bad_json")
                return
        await self.app(scope, _replay(bytes(body), receive), send)


def _json_problem(body: bytes) -> str | None:
    """NaN/Infinity or NUL characters; malformed JSON is left to the route's own 422."""
    try:
        value = json.loads(body, parse_constant=_reject_constant)
        _check_strings(value)
    except _BadJson as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None
    return None


def _too_large(what: str, limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"the {what} is larger than {limit // (1024 * 1024)} MiB"
    return f"the {what} is larger than {limit // 1024} KiB"


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
