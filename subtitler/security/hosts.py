"""Which Host headers and Origins belong to this daemon (DNS rebinding and CSRF defence).

Like Jupyter's `local_hostnames` and Django's ALLOWED_HOSTS: IP literals, `localhost` (and
`*.localhost`), this machine's own names and the user's `allowed_hosts` are ours.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=1)
def machine_names() -> frozenset[str]:
    names = {"localhost"}
    try:
        hostname = socket.gethostname().lower()
    except OSError:
        hostname = ""
    if hostname:
        short = hostname.split(".", 1)[0]
        names.update({hostname, short, f"{short}.local", f"{short}.lan", f"{short}.home"})
    return frozenset(n for n in names if n)


def split_host(host: str) -> tuple[str, int | None]:
    """'name:8000' -> ('name', 8000); '[::1]:80' -> ('::1', 80). Lower-cased, no trailing dot."""
    host = host.strip().lower()
    port: int | None = None
    if host.startswith("["):
        end = host.find("]")
        name = host[1:end] if end > 0 else host[1:]
        rest = host[end + 1 :] if end > 0 else ""
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        return name, port
    if host.count(":") == 1:
        name, _, port_text = host.partition(":")
        port = int(port_text) if port_text.isdigit() else None
        host = name
    return host.rstrip("."), port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(host: str, extra: list[str]) -> bool:
    if not host:
        return True  # no Host header: not a browser (every browser sends one)
    name, _ = split_host(host)
    if _is_ip(name) or name in machine_names() or name.endswith(".localhost"):
        return True
    for item in extra:
        item = item.strip().lower().rstrip(".")
        if item == "*" or item == name:
            return True
        if item.startswith("*."):
            item = item[1:]
        if item.startswith(".") and (name.endswith(item) or name == item[1:]):
            return True
    return False


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (a Referer), '' when it has none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "null"
    if not parts.scheme or not parts.netloc:
        return "null"
    return f"{parts.scheme}://{parts.netloc}"


def same_origin(origin: str, host: str) -> bool:
    """Whether a browser Origin names the host the request was sent to (ports normalised)."""
    try:
        parts = urlsplit(origin)
        origin_port = parts.port
    except ValueError:
        return False
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return False
    o_name = parts.hostname.lower().rstrip(".")
    o_port = origin_port or DEFAULT_PORTS[parts.scheme]
    h_name, h_port = split_host(host)
    if o_name != h_name:
        return False
    # A Host without a port means the scheme's default port (RFC 9110), never "any port": a
    # page on another port of the same machine is another site. A proxy must forward the port
    # it listens on (nginx: `proxy_set_header Host $http_host;`) or list it in allowed_origins.
    return o_port == (h_port if h_port is not None else DEFAULT_PORTS[parts.scheme])


def effective_hosts(extra: list[str]) -> list[str]:
    """What the daemon answers to, for people (the setup wizard shows it)."""
    return ["any IP address", *sorted(machine_names()), "*.localhost", *extra]
