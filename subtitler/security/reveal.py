"""Who may read a secret in clear (the API key for the Settings page's Show and Copy).

Stricter than the guard's cross-origin rule (subtitler.api.guard), which lets `allowed_origins`
through: a secret is answered only to a request that names no other origin at all. A browser
sends `Origin` (fetch) or `Referer`, and `Sec-Fetch-Site`; each one present must say "this very
site". A non-browser client (curl, Bazarr) sends none of them and has already shown the key or
come from the LAN in `local_exempt` mode, like every other admin route.
"""

from __future__ import annotations

from starlette.types import Scope

from subtitler.errors import Forbidden
from subtitler.security.hosts import origin_of, same_origin

SAME_SITE_FETCH = frozenset({"same-origin", "none"})


def header_values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in headers if key.lower() == name]


def is_same_origin_request(scope: Scope) -> bool:
    if scope.get("state", {}).get("subtitler_cross_origin"):
        return False
    headers = list(scope.get("headers") or [])
    host = (header_values(headers, b"host") or [""])[0]
    for origin in header_values(headers, b"origin"):
        if not same_origin(origin.strip(), host):
            return False
    for referer in header_values(headers, b"referer"):
        if not same_origin(origin_of(referer.strip()), host):
            return False
    for site in header_values(headers, b"sec-fetch-site"):
        if site.strip().lower() not in SAME_SITE_FETCH:
            return False
    return True


def refuse_unless_same_origin(scope: Scope) -> None:
    if not is_same_origin_request(scope):
        raise Forbidden(
            "the API key is shown only to subtitler's own pages", code="cross_origin_secret"
        )
