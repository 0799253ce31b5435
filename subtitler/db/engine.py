"""One async engine per daemon. SQLite runs in WAL with a busy timeout and foreign keys on.

SQLite transactions that write start with BEGIN IMMEDIATE (through `Database.write()`), so two
writers never both hold a read snapshot and then fail to upgrade it; reads use a plain BEGIN.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from subtitler.system.stopping import stop_within

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "subtitler_begin_immediate"
DISPOSE_TIMEOUT = 3.0


def configure_sqlite(sync_engine: Engine) -> None:
    """Pragmas on every new connection, and explicit BEGIN / BEGIN IMMEDIATE transactions."""

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy's pysqlite recipe)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def immediate_options() -> dict[str, bool]:
    """Execution options that make a SQLite transaction start with BEGIN IMMEDIATE."""
    return {_IMMEDIATE: True}


class Database:
    """The async engine and two session factories: `read()` and `write()`."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._raw: weakref.WeakSet[Any] = weakref.WeakSet()  # asyncpg connections, to terminate
        if self.is_sqlite:
            configure_sqlite(self.engine.sync_engine)
        else:
            event.listen(self.engine.sync_engine, "connect", self._on_connect)
        writer = (
            self.engine.execution_options(**immediate_options()) if self.is_sqlite else self.engine
        )
        self._read = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write = async_sessionmaker(writer, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        async with self._write() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def _on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        raw = getattr(dbapi_conn, "_connection", None)  # the asyncpg connection under the adapter
        if raw is not None and hasattr(raw, "terminate"):
            self._raw.add(raw)

    def terminate(self) -> int:
        """Close every connection's socket at once, without a word to the server (asyncpg's
        terminate): what is waiting on one fails at once. Returns how many were open."""
        count = 0
        for raw in list(self._raw):
            if not raw.is_closed():
                raw.terminate()
                count += 1
        return count

    async def dispose(self, timeout: float = DISPOSE_TIMEOUT) -> bool:
        """Close the pool's connections; a server that does not answer within `timeout` gets
        its connections terminated instead. Returns False when it had to."""
        if await stop_within("the database connections", self.engine.dispose(), timeout):
            return True
        count = self.terminate()
        logger.warning("database did not answer: %d connection(s) terminated", count)
        await asyncio.shield(self.engine.dispose(close=False))  # forget them; closes nothing
        return False
