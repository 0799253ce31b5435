"""Turn an exception that escaped a route into (status, detail, code) without re-raising it.

Some failures are the client's or the disk's, not a bug: numbers too large for the database, NUL
bytes or over-long names reaching the file system, a full disk, a read-only database.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from sqlalchemy.exc import OperationalError

from subtitler.errors import SubtitlerError

logger = logging.getLogger(__name__)

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def reply_for_exception(exc: BaseException, scope: Any = None) -> tuple[int, str, str]:
    if isinstance(exc, SubtitlerError):
        return exc.status, exc.detail, exc.code
    if isinstance(exc, OverflowError):
        return 400, "a number in the request is out of range", "out_of_range"
    if isinstance(exc, UnicodeEncodeError) and "surrogate" in str(exc):
        # text from a body the guard does not parse as JSON (a webhook sent as text/plain)
        return 400, "the request holds a lone UTF-16 surrogate (\\ud800-\\udfff)", "bad_text"
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        return 400, "NUL bytes are not allowed", "nul_byte"
    if isinstance(exc, OSError):
        if exc.errno == errno.ENAMETOOLONG:
            return 400, "the path is too long", "path_too_long"
        if exc.errno in DISK_FULL:
            logger.error("disk full: %s", exc)
            return 507, "the data disk is full", "disk_full"
        if exc.errno == errno.EROFS:
            logger.error("read-only file system: %s", exc)
            return 503, "the data folder is read-only", "read_only"
    if isinstance(exc, OperationalError):
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if "disk is full" in text or "disk I/O" in text:
            logger.error("database write failed: %s", text)
            return 507, "the database cannot write: the disk is full", "disk_full"
        if "readonly" in text or "read-only" in text:
            logger.error("database is read-only: %s", text)
            return 503, "the database is read-only", "read_only"
    path = scope.get("path") if isinstance(scope, dict) else None
    logger.error("unhandled error on %s", path, exc_info=exc)
    return 500, f"Internal server error: {type(exc).__name__}", "internal_error"
