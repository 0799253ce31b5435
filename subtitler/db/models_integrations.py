"""The delivery log of integrations: every inbound webhook and every outbound call (media-server
refresh, signed webhook, per-job callback, Apprise), newest kept, oldest trimmed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from subtitler.db.models import Base, utcnow


class IntegrationDelivery(Base):
    __tablename__ = "integration_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)  # in | out
    channel: Mapped[str] = mapped_column(String(32), nullable=False)  # sonarr, plex, webhook, ...
    event: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[str | None] = mapped_column(Text)  # the URL called (no secrets), or a path
    detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    job_ids: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    # While a signed delivery is pending: what to send where, so a restart resumes it (never
    # shown by the API; cleared once delivered or given up).
    url: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_integration_deliveries_created", "created_at", "id"),)
