"""Short-lived tokens for the event stream, so the browser's EventSource (which cannot send
headers) never carries the API key in its URL, where proxies and access logs would keep it.

An authenticated POST /api/events/token returns `<expiry>.<nonce>.<hmac>`; the token is valid
for /api/events only, until its expiry, signed with a secret that lives in this process alone
(a restart invalidates every token; the page then asks for a new one)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

TOKEN_TTL_SECONDS = 60  # long enough to open the stream; the open stream outlives it
STREAM_PATH = "/api/events"
_SECRET = secrets.token_bytes(32)


def _sign(payload: str) -> str:
    return hmac.new(_SECRET, payload.encode(), hashlib.sha256).hexdigest()


def issue(*, now: float | None = None, ttl: int = TOKEN_TTL_SECONDS) -> tuple[str, int]:
    expiry = int((now if now is not None else time.time()) + ttl)
    payload = f"{expiry}.{secrets.token_hex(8)}"
    return f"{payload}.{_sign(payload)}", ttl


def valid(token: str, *, now: float | None = None) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return False
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_sign(payload), parts[2]):
        return False
    return int(parts[0]) >= (now if now is not None else time.time())
