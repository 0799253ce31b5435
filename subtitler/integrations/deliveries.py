"""The short delivery log: one row per inbound webhook and per outbound delivery (with its
attempts), newest first; the oldest rows beyond KEEP are trimmed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from subtitler.db import Database
from subtitler.db.models import utcnow
from subtitler.db.models_integrations import IntegrationDelivery
from subtitler.jobs.schemas import as_utc_iso

KEEP = 500
TRIM_EVERY = 50
DETAIL_MAX = 2000


class DeliveryLog:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._inserts = 0

    async def record(
        self, *, direction: str, channel: str, event: str, status: str,
        target: str | None = None, detail: str | None = None, attempts: int = 0,
        job_ids: Iterable[str] = (), next_attempt_at: datetime | None = None,
        url: str | None = None, body: str | None = None,
    ) -> int:  # fmt: skip
        row = IntegrationDelivery(
            direction=direction, channel=channel, event=event[:64], status=status,
            target=target, detail=(detail or None) and detail[:DETAIL_MAX], attempts=attempts,
            job_ids=list(job_ids), next_attempt_at=next_attempt_at, url=url, body=body,
        )  # fmt: skip
        async with self._db.write() as session:
            session.add(row)
            await session.flush()
            row_id = row.id
        self._inserts += 1
        if self._inserts % TRIM_EVERY == 0:
            await self.trim()
        return row_id

    async def update(self, row_id: int, **values: Any) -> None:
        if values.get("detail"):
            values["detail"] = str(values["detail"])[:DETAIL_MAX]
        async with self._db.write() as session:
            await session.execute(
                update(IntegrationDelivery)
                .where(IntegrationDelivery.id == row_id)
                .values(updated_at=utcnow(), **values)
            )

    async def trim(self) -> None:
        async with self._db.write() as session:
            cutoff = await session.scalar(
                select(IntegrationDelivery.id)
                .order_by(IntegrationDelivery.id.desc())
                .offset(KEEP)
                .limit(1)
            )
            if cutoff is not None:
                await session.execute(
                    delete(IntegrationDelivery).where(IntegrationDelivery.id <= cutoff)
                )

    async def recent(
        self, *, limit: int = 100, direction: str | None = None, channel: str | None = None
    ) -> list[dict[str, Any]]:
        stmt = select(IntegrationDelivery).order_by(IntegrationDelivery.id.desc()).limit(limit)
        if direction:
            stmt = stmt.where(IntegrationDelivery.direction == direction)
        if channel:
            stmt = stmt.where(IntegrationDelivery.channel == channel)
        async with self._db.read() as session:
            rows = (await session.scalars(stmt)).all()
        return [_out(row) for row in rows]

    async def pending(self) -> list[IntegrationDelivery]:
        """Signed deliveries a previous run left unfinished (to resume)."""
        stmt = select(IntegrationDelivery).where(
            IntegrationDelivery.status.in_(("sending", "retrying")),
            IntegrationDelivery.url.is_not(None),
            IntegrationDelivery.body.is_not(None),
        )
        async with self._db.read() as session:
            return list((await session.scalars(stmt)).all())

    async def get(self, row_id: int) -> dict[str, Any] | None:
        async with self._db.read() as session:
            row = await session.get(IntegrationDelivery, row_id)
        return _out(row) if row is not None else None


def _out(row: IntegrationDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": as_utc_iso(row.created_at),
        "updated_at": as_utc_iso(row.updated_at),
        "direction": row.direction,
        "channel": row.channel,
        "event": row.event,
        "status": row.status,
        "target": row.target,
        "detail": row.detail,
        "attempts": row.attempts,
        "job_ids": list(row.job_ids or []),
        "next_attempt_at": as_utc_iso(row.next_attempt_at) if row.next_attempt_at else None,
    }
