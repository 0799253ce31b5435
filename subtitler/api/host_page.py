"""The page a browser gets when it reaches subtitler under a name it does not know.

The Host allow-list (subtitler.security.hosts) stops DNS rebinding: a foreign web page whose name
was pointed at this machine must not talk to it. A person who opened `http://nas.lan:8000` on a
fresh Docker install meets the same refusal, so a browser (Accept: text/html) gets a readable
page naming the variable and the setting that admit the name; API clients keep the JSON 400.

The page is static text: no script, no form, no link that acts, nothing from the daemon's state
(the rebinding page can read it, as it is served under its own name). The name it shows is the
request's own Host, HTML-escaped, and repeated in an example only when it is a plain host name.
"""

from __future__ import annotations

import html
import re

from subtitler.security.hosts import split_host

HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-security-policy",
     b"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
     b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
]  # fmt: skip
PLAIN_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1f2328}code{background:#f0f0f0;padding:.1rem .3rem;border-radius:3px}"
    "pre{background:#f0f0f0;padding:.6rem;border-radius:4px;overflow-x:auto}"
)


def wants_html(method: str, accept: str) -> bool:
    return method in ("GET", "HEAD") and "text/html" in accept.lower()


def host_page(host: str) -> bytes:
    name, _ = split_host(host)
    plain = bool(PLAIN_NAME.match(name)) and len(name) <= 100
    shown = html.escape(name if plain else (host[:100] or "this name"))
    example = name if plain else "nas.lan"
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>subtitler: add this name to the allowed hosts</title>
<style>{STYLE}</style></head><body>
<h1>subtitler does not know the name <code>{shown}</code> yet</h1>
<p>To keep other web pages from reaching it through a borrowed name (DNS rebinding),
subtitler answers only to IP addresses, <code>localhost</code>, this machine's own name and the
names you allow.</p>
<h2>Allow this name</h2>
<ul>
<li><strong>Docker or environment:</strong> add it to <code>SUBTITLER_ALLOWED_HOSTS</code>
(comma-separated) and recreate the container, e.g. in your compose file:
<pre>    environment:
      SUBTITLER_ALLOWED_HOSTS: {html.escape(example)}</pre></li>
<li><strong>Or in subtitler:</strong> open it by this machine's IP address (for example
<code>http://192.168.1.10:8000</code>), then add the name under Settings &rarr; Security &rarr;
Allowed hosts (the <code>allowed_hosts</code> setting). A leading dot allows a whole domain:
<code>.lan</code>.</li>
</ul>
<p>API clients that send the API key are not affected.</p>
</body></html>
"""
    return text.encode()
