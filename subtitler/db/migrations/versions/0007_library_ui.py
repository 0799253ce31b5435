"""library ui schema: issue 13 (library, history, system and logs screens)

- `library_files`: the library index the scanner keeps up to date (one row per media file, with
  its languages, the rules' verdict and an ignore flag), indexed for the Library page's paging;
- `written_subtitles.uid`: a short stable id per written subtitle for /api/subtitles/{id};
- indexes on `jobs.file_path` and `written_subtitles.media_path` (per-file look-ups).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _uid(path: str) -> str:
    return hashlib.sha1(path.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def upgrade() -> None:
    op.create_table(
        "library_files",
        sa.Column("path", sa.Text(), primary_key=True),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("series", sa.Text(), nullable=True),
        sa.Column("season", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("audio_langs", sa.Text(), nullable=False, server_default=""),
        sa.Column("embedded_langs", sa.Text(), nullable=False, server_default=""),
        sa.Column("external_langs", sa.Text(), nullable=False, server_default=""),
        sa.Column("verdict", sa.String(16), nullable=False, server_default="no_match"),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rule_name", sa.Text(), nullable=True),
        sa.Column("ignored", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_library_files_name", "library_files", ["name"])
    op.create_index("ix_library_files_folder", "library_files", ["folder", "name"])
    op.create_index("ix_library_files_verdict", "library_files", ["verdict"])
    op.create_index("ix_jobs_file_path", "jobs", ["file_path", "created_at"])
    with op.batch_alter_table("written_subtitles") as batch:
        batch.add_column(sa.Column("uid", sa.String(16), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT path FROM written_subtitles")).all()
    for (path,) in rows:
        conn.execute(
            sa.text("UPDATE written_subtitles SET uid = :uid WHERE path = :path"),
            {"uid": _uid(path), "path": path},
        )
    op.create_index("ix_written_subtitles_uid", "written_subtitles", ["uid"], unique=True)
    op.create_index("ix_written_subtitles_media", "written_subtitles", ["media_path"])


def downgrade() -> None:
    op.drop_index("ix_written_subtitles_media", table_name="written_subtitles")
    op.drop_index("ix_written_subtitles_uid", table_name="written_subtitles")
    with op.batch_alter_table("written_subtitles") as batch:
        batch.drop_column("uid")
    op.drop_index("ix_jobs_file_path", table_name="jobs")
    op.drop_table("library_files")
