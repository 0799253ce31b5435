"""Events across nodes: job and worker events go out with NOTIFY and come back in with LISTEN.

Every node publishes its own events to the `subtitler_events` channel and republishes the other
nodes' on its local bus with `origin_node` set, so each node's /api/events shows the whole
cluster and the worker pool wakes at once when any node queues a job; a setting changed on one
node is re-read by the others (the `on_remote_setting` callback). NOTIFY payloads are capped
at 8000 bytes by PostgreSQL: a larger event goes out as its id and status only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from subtitler.cluster.pg import backoff, close_quietly, connect
from subtitler.events import EventBus
from subtitler.events.bus import Event
from subtitler.system.stopping import finished, stop_within

logger = logging.getLogger(__name__)

CHANNEL = "subtitler_events"
PAYLOAD_LIMIT = 7900
OUTBOX_LIMIT = 10_000
STOP_TIMEOUT = 2.0
SHARED_PREFIXES = ("job_", "jobs_", "worker_", "setting_updated")


class EventBridge:
    def __init__(
        self,
        *,
        url: str,
        bus: EventBus,
        node_id: str,
        on_remote_setting: Callable[[str], None] | None = None,
    ) -> None:
        self._url = url
        self._on_remote_setting = on_remote_setting
        self._bus = bus
        self._node_id = node_id
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=OUTBOX_LIMIT)
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self.connected = asyncio.Event()
        bus.add_hook(self._on_local_event)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cluster-events")

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Cancel the listener within `timeout`; its connection is terminated if the server
        does not answer by then."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            if not await stop_within("the cluster event listener", finished(task), timeout):
                conn = self._conn
                if conn is not None:
                    conn.terminate()

    def _on_local_event(self, event: Event) -> None:
        if "origin_node" in event.data or not event.type.startswith(SHARED_PREFIXES):
            return
        text = _encode(self._node_id, event.type, event.data)
        if text is None:
            return
        if self._outbox.full():
            self._outbox.get_nowait()  # the oldest goes: a live view, not a ledger
        self._outbox.put_nowait(text)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        origin = message.get("n")
        if origin == self._node_id or not isinstance(message.get("d"), dict):
            return
        kind = str(message.get("t"))
        self._bus.publish(kind, {**message["d"], "origin_node": origin})
        if kind == "setting_updated" and self._on_remote_setting is not None:
            self._on_remote_setting(str(message["d"].get("key")))

    async def _run(self) -> None:
        attempt = 0
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = self._conn = await connect(self._url)
                await conn.add_listener(CHANNEL, self._on_notify)
                self.connected.set()
                attempt = 0
                while True:
                    try:
                        # not wait_for: on 3.11 it can swallow a cancel that meets an item
                        async with asyncio.timeout(10):
                            text = await self._outbox.get()
                    except TimeoutError:
                        await conn.fetchval("SELECT 1")  # notice a dead connection
                        continue
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, text)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                delay = backoff(attempt)
                attempt += 1
                logger.warning("cluster events: %s; reconnecting in %.0f s", exc, delay)
                await asyncio.sleep(delay)
            finally:
                self._conn = None
                if conn is not None:
                    await close_quietly(conn)


def _encode(node_id: str, event_type: str, data: dict[str, Any]) -> str | None:
    text = json.dumps({"n": node_id, "t": event_type, "d": data}, default=str)
    if len(text.encode()) <= PAYLOAD_LIMIT:
        return text
    small = {k: data[k] for k in ("id", "status", "worker_id", "node_id") if k in data}
    text = json.dumps({"n": node_id, "t": event_type, "d": small}, default=str)
    return text if len(text.encode()) <= PAYLOAD_LIMIT else None
