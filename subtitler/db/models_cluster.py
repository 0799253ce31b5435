"""The nodes of a cluster: one row per daemon or `subtitler worker` on the shared database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from subtitler.db.models import Base, utcnow


class Node(Base):
    __tablename__ = "nodes"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)  # full | worker
    url: Mapped[str | None] = mapped_column(Text)
    devices: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    workers: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    duties: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    mappings: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_heartbeat: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
