"""Idempotency-Key on creating requests (Stripe's rules): the same key with the same body
answers the first response again; the same key with another body is a 422; keys live 24 h.

Concurrent requests with one key are taken one at a time (`hold`): the first creates, the others
wait for it and replay its answer, so 8 parallel retries give one 201 and seven replays of that
same job, never a second job nor a 409 for a key the client used correctly."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from subtitler.db import Database
from subtitler.db.models import utcnow
from subtitler.db.models_jobs import IdempotencyKey
from subtitler.errors import BadRequest, Unprocessable

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def body_digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._held: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}  # lock, users

    @contextlib.asynccontextmanager
    async def hold(self, *, key: str, route: str) -> AsyncIterator[None]:
        """One request per (key, route) at a time in this process; the lock is dropped with its
        last user."""
        lock, users = self._held.get((key, route), (asyncio.Lock(), 0))
        self._held[(key, route)] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._held[(key, route)]
            if users <= 1:
                del self._held[(key, route)]
            else:
                self._held[(key, route)] = (lock, users - 1)

    async def replay(self, *, key: str, route: str, digest: str) -> tuple[int, Any] | None:
        """The stored (status, body) for this key, None when the key is new (or expired)."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise BadRequest(
                f"Idempotency-Key: 1-{MAX_KEY_LENGTH} characters", code="bad_idempotency_key"
            )
        async with self._db.read() as session:
            row = await session.get(IdempotencyKey, (key, route))
        if row is None or utcnow() - row.created_at > TTL:
            return None
        if row.body_sha256 != digest:
            raise Unprocessable(
                "this Idempotency-Key was used with another request body; use a new key",
                code="idempotency_key_reused",
            )
        return row.status_code, row.response

    async def save(self, *, key: str, route: str, digest: str, status: int, body: Any) -> None:
        now = utcnow()
        async with self._db.write() as session:
            await session.execute(
                delete(IdempotencyKey).where(
                    (IdempotencyKey.created_at < now - TTL)
                    | ((IdempotencyKey.key == key) & (IdempotencyKey.route == route))
                )
            )
        try:
            async with self._db.write() as session:
                row = IdempotencyKey(key=key, route=route, body_sha256=digest)
                row.status_code, row.response, row.created_at = status, body, now
                session.add(row)
        except IntegrityError:  # a concurrent request with the same key saved first
            pass
