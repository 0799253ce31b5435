"""One live process per node id: a PostgreSQL advisory lock on the id, held for the node's life.

Two machines started with the same SUBTITLER_NODE_ID would renew each other's leases and take
each other's running jobs. The lock is held on its own connection, so it goes the moment the
process dies (a restart after a crash is not refused); a second process with the same id finds
it taken and refuses to start, naming the host of the one that runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

import asyncpg
from sqlalchemy import select

from subtitler.cluster.pg import connect
from subtitler.db import Database
from subtitler.db.models_cluster import Node

logger = logging.getLogger(__name__)

LOCK_CLASS = 0x53554254  # "SUBT": the two-int advisory key space, apart from the duties' keys
KEEPALIVE = 15.0


class NodeIdInUse(Exception):
    """Another live process holds this node id (exit 2: a configuration error)."""


def lock_key(node_id: str) -> int:
    """A stable signed 32-bit key for the id."""
    return int.from_bytes(hashlib.sha256(node_id.encode()).digest()[:4], "big", signed=True)


class NodeIdentity:
    def __init__(self, *, url: str, node_id: str, db: Database) -> None:
        self.node_id = node_id
        self._url = url
        self._db = db
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def claim(self) -> None:
        """Take the id; NodeIdInUse when another live process has it. Idempotent."""
        if self.held:
            return
        conn = await connect(self._url)
        got = await conn.fetchval(
            "SELECT pg_try_advisory_lock($1, $2)", LOCK_CLASS, lock_key(self.node_id)
        )
        if not got:
            await conn.close()
            raise NodeIdInUse(await self._describe_other())
        self._conn = conn
        if self._task is None:
            self._task = asyncio.create_task(self._keep(), name="node-identity")

    async def _describe_other(self) -> str:
        host = url = None
        with contextlib.suppress(Exception):  # the nodes table may not exist yet
            async with self._db.read() as session:
                row = await session.scalar(select(Node).where(Node.id == self.node_id))
            if row is not None:
                host, url = row.host, row.url
        where = f"on host {host}" + (f" ({url})" if url else "") if host else "elsewhere"
        return (
            f"node id {self.node_id!r} is already used by a running node {where}: give every "
            "machine its own SUBTITLER_NODE_ID (two nodes with one id would take each other's "
            "jobs)"
        )

    async def _keep(self) -> None:
        """Keep the session alive; after a lost connection, take the id again when free."""
        while True:
            await asyncio.sleep(KEEPALIVE)
            try:
                if self.held:
                    assert self._conn is not None
                    await asyncio.wait_for(self._conn.fetchval("SELECT 1"), 10)
                    continue
                self._conn = None
                await self.claim()
            except asyncio.CancelledError:
                raise
            except NodeIdInUse as exc:
                logger.error("%s", exc)
            except Exception as exc:
                logger.debug("node id lock: %s", exc)
                await self._close()

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:  # a server that does not answer: drop the socket
                conn.terminate()

    async def release(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close()
