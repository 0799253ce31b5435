"""Raw asyncpg connections for what SQLAlchemy's pool is not for: a session-scoped advisory lock
and LISTEN. TCP keepalives make a vanished peer's lock go within seconds, not hours."""

from __future__ import annotations

import asyncpg

CONNECT_TIMEOUT = 5.0
CLOSE_TIMEOUT = 1.0  # a server that does not answer the goodbye gets its socket closed


def dsn_of(url: str) -> str:
    """postgresql+asyncpg://... (SQLAlchemy) -> postgresql://... (asyncpg)."""
    return "postgresql://" + url.split("://", 1)[1]


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        dsn_of(url),
        timeout=CONNECT_TIMEOUT,
        server_settings={
            "application_name": "subtitler",
            "tcp_keepalives_idle": "10",
            "tcp_keepalives_interval": "5",
            "tcp_keepalives_count": "3",
        },
    )


def backoff(attempt: int, *, cap: float = 30.0) -> float:
    """1, 2, 4, ... seconds, at most `cap`."""
    return float(min(cap, 2 ** min(attempt, 10)))


async def close_quietly(conn: asyncpg.Connection, *, timeout: float = CLOSE_TIMEOUT) -> None:
    """Close politely within `timeout`, else terminate (the socket closes; the server drops the
    session, and its advisory locks, when it notices). Never raises but on cancellation."""
    try:
        await conn.close(timeout=timeout)
    except Exception:
        conn.terminate()
