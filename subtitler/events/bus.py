"""Publish/subscribe within the daemon. Publishers never block: a subscriber that cannot keep up
loses its oldest events (and is told so with a `dropped` count) rather than slowing the queue."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

SUBSCRIBER_BUFFER = 1000


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    data: dict[str, Any]
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_sse(self) -> str:
        payload = json.dumps(self.data, default=str, ensure_ascii=False)
        return f"id: {self.id}\nevent: {self.type}\ndata: {payload}\n\n"


class Subscription:
    def __init__(self, bus: EventBus, types: frozenset[str] | None) -> None:
        self._bus = bus
        self.types = types
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=SUBSCRIBER_BUFFER)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        if self.types is not None and event.type not in self.types:
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self, wait_seconds: float | None = None) -> Event | None:
        try:
            return await asyncio.wait_for(self.queue.get(), wait_seconds)
        except TimeoutError:
            return None

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hooks: list[Callable[[Event], None]] = []

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the daemon's loop so threads can publish safely."""
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def add_hook(self, hook: Callable[[Event], None]) -> None:
        """Call `hook(event)` synchronously, on the loop, for every event (cache invalidation)."""
        self._hooks.append(hook)

    def subscribe(self, types: set[str] | None = None) -> Subscription:
        sub = Subscription(self, frozenset(types) if types else None)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def publish(self, event_type: str, data: dict[str, Any]) -> Event:
        event = Event(id=next(self._ids), type=event_type, data=data)
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop:
            loop.call_soon_threadsafe(self._deliver, event)
        else:
            self._deliver(event)
        return event

    def _deliver(self, event: Event) -> None:
        for hook in self._hooks:
            try:
                hook(event)
            except Exception:
                logger.exception("event hook failed")
        for sub in list(self._subscribers):
            sub.offer(event)

    async def stream(
        self, *, heartbeat_seconds: float, types: set[str] | None = None
    ) -> AsyncIterator[str]:
        """SSE text: a retry hint, then events, with a comment line whenever it is quiet."""
        sub = self.subscribe(types)
        try:
            yield "retry: 3000\n: connected\n\n"
            while True:
                event = await sub.get(wait_seconds=heartbeat_seconds)
                if event is None:
                    yield ": heartbeat\n\n"
                    continue
                yield event.to_sse()
        finally:
            sub.close()
