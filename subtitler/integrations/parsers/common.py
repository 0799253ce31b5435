"""What every inbound parser returns, and the body decoding they share (JSON, or a JSON field of
a multipart / urlencoded form as Plex and Emby send)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from subtitler.errors import BadRequest

IMPORT, PLAYBACK, TEST, IGNORED = "import", "playback", "test", "ignored"
FORM_FIELDS = ("payload", "data")  # Plex sends `payload`, Emby `data`


class MalformedWebhook(BadRequest):
    code = "webhook_malformed"


@dataclass
class Inbound:
    """One delivery, understood: which files (or item ids to look up) and why."""

    event: str
    kind: str  # import | playback | test | ignored
    paths: list[str] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    reason: str | None = None
    title: str | None = None
    gone: list[str] = field(default_factory=list)  # files the sender removed or renamed away

    @classmethod
    def ignored(cls, event: str, reason: str) -> Inbound:
        return cls(event=event, kind=IGNORED, reason=reason)


def _json(text: bytes | str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedWebhook(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedWebhook(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    if not message.is_multipart():
        raise MalformedWebhook("multipart body without parts")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name in FORM_FIELDS:
            payload = part.get_payload(decode=True)
            return _json(payload if isinstance(payload, bytes) else b"", f"form field {name!r}")
    raise MalformedWebhook(f"multipart body without a {' or '.join(FORM_FIELDS)} field")


def decode_body(content_type: str, raw: bytes) -> dict[str, Any]:
    """The JSON object a sender posted, from JSON, multipart or urlencoded bodies."""
    if not raw.strip():
        raise MalformedWebhook("empty body")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        return _multipart(content_type, raw)
    if kind == "application/x-www-form-urlencoded":
        form = parse_qs(raw.decode("utf-8", "replace"))
        for name in FORM_FIELDS:
            if name in form:
                return _json(form[name][0], f"form field {name!r}")
        raise MalformedWebhook(f"form body without a {' or '.join(FORM_FIELDS)} field")
    return _json(raw, "body")  # JSON, whatever the sender called it (Jellyfin: text/plain)


def text(value: Any) -> str | None:
    """A non-empty string field, else None (templates leave empty strings behind)."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def obj(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedWebhook(f"{where} must be an object")
    return value
