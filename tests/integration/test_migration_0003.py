"""Migration 0003 on a database that holds two live jobs for one output (a transcribe and a
translate to English, allowed before): the better one stays, the other is cancelled, and the
new unique index then holds. Downgrade restores the old index."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from subtitler.db.migrate import alembic_config

_INSERT = text(
    "INSERT INTO jobs (id, file_path, file_name, job_type, status, priority, quality_preset, "
    "transcribe_or_translate, is_manual_request, progress, created_at, retry_count, "
    "recovered_count, options, target_lang) VALUES (:id, '/m/a.mkv', 'a.mkv', 'transcription', "
    ":status, :priority, 'fast', :task, 1, 0, '2026-01-01 00:00:00', 0, 0, '{}', 'eng')"
)


def _run(db: Path, action: str, revision: str) -> None:
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)
    engine.dispose()


def test_upgrade_merges_twins_and_enforces_one_live_job_per_output(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    _run(db, "upgrade", "0002")
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(_INSERT, {"id": "a", "status": "queued", "priority": 0, "task": "transcribe"})
        conn.execute(_INSERT, {"id": "b", "status": "queued", "priority": 5, "task": "translate"})
        conn.execute(_INSERT, {"id": "c", "status": "failed", "priority": 9, "task": "transcribe"})
    engine.dispose()

    _run(db, "upgrade", "0003")
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        rows = dict(conn.execute(text("SELECT id, status FROM jobs")).all())
        assert rows == {"a": "cancelled", "b": "queued", "c": "failed"}
        channel = conn.execute(text("SELECT channel, variant FROM jobs WHERE id = 'b'")).one()
        assert tuple(channel) == ("api", "")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(_INSERT, {"id": "d", "status": "queued", "priority": 0, "task": "transcribe"})
    engine.dispose()

    _run(db, "downgrade", "0002")
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
    engine.dispose()
    assert "uq_jobs_active_target" in names and "api_tokens" not in names
