"""Riding out a database that went away (a NAS rebooting, a dropped LAN): which errors are
transient, and a retry with backoff for the writes a worker must not lose."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from subtitler.cluster.pg import backoff

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Exception classes that are (mostly) connection trouble, for contextlib.suppress.
TRANSIENT_TYPES = (OperationalError, InterfaceError, OSError, ConnectionError, TimeoutError)


def is_transient(exc: BaseException) -> bool:
    """Connection trouble, not a bad statement: worth waiting for."""
    if isinstance(exc, DBAPIError):
        dropped = bool(exc.connection_invalidated)
        return dropped or isinstance(exc, OperationalError | InterfaceError)
    return isinstance(exc, OSError | ConnectionError | TimeoutError) or (
        type(exc).__module__.startswith("asyncpg") and "Connection" in type(exc).__name__
    )


async def retrying(call: Callable[[], Awaitable[T]], *, what: str, cap: float = 15.0) -> T:
    """Run `call` until it stops failing transiently (other errors propagate)."""
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            delay = backoff(attempt, cap=cap)
            attempt += 1
            logger.warning("%s: database unreachable (%s); retrying in %.0f s", what, exc, delay)
            await asyncio.sleep(delay)
