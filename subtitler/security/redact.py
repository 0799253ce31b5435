"""Secrets never reach a log line: `apikey=...` (and similar query parameters) are masked in
every record of every logger, uvicorn's access log included, by wrapping the record factory."""

from __future__ import annotations

import logging
import re
from typing import Any

SECRET_PARAMS = re.compile(r"(?i)((?:api_?key|access_token|token|password)=)([^&\s\"'#]+)")
MASK = "***"
_installed = False


def redact(text: str) -> str:
    return SECRET_PARAMS.sub(lambda m: m.group(1) + MASK, text)


def _clean(value: Any) -> Any:
    if isinstance(value, str) and "=" in value:
        return redact(value)
    return value


def install_redaction() -> None:
    """Idempotent: every LogRecord created from now on has secrets masked."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.msg = _clean(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
