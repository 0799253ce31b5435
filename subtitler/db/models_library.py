"""The library index (issue 13): one row per media file the scanner saw, kept up to date by
every scan, read by the Library page with server-side filters, sort and paging."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from subtitler.db.models import Base, Job, utcnow


class LibraryFile(Base):
    __tablename__ = "library_files"

    path: Mapped[str] = mapped_column(Text, primary_key=True)
    folder: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    series: Mapped[str | None] = mapped_column(Text)
    season: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    mtime_ns: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    # Language lists as ",eng,spa," so "has X" is one LIKE '%,X,%' (no join at 50,000 rows).
    audio_langs: Mapped[str] = mapped_column(Text, nullable=False, default="")
    embedded_langs: Mapped[str] = mapped_column(Text, nullable=False, default="")
    external_langs: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Languages jobs detected on untagged audio tracks (subtitler.library.verdict), ",deu,".
    detected_langs: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    # queued (a rule asked for a job) | done (what the rules want exists) | no_match | failed_probe
    verdict: Mapped[str] = mapped_column(String(16), nullable=False, default="no_match")
    reason: Mapped[str | None] = mapped_column(Text)
    rule_name: Mapped[str | None] = mapped_column(Text)
    ignored: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    indexed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_library_files_name", "name"),
        Index("ix_library_files_folder", "folder", "name"),
        Index("ix_library_files_verdict", "verdict"),
    )


# Per-file job look-ups (the Library's "last job" and "failed" filter).
Index("ix_jobs_file_path", Job.file_path, Job.created_at)
