"""write intents: issue 17 (a worker's result is never lost)

- `subtitle_write_intents`: the subtitle a job is about to write (path, sha256), recorded before
  the file is renamed into place and removed when the file's `written_subtitles` record is made;
  a job re-run after a crash in between recognises its own file instead of failing
  `output_exists`.

Revision ID: 0008_write_intents
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_write_intents"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subtitle_write_intents",
        sa.Column("path", sa.Text(), primary_key=True),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("media_path", sa.Text(), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_subtitle_write_intents_media", "subtitle_write_intents", ["media_path"])


def downgrade() -> None:
    op.drop_index("ix_subtitle_write_intents_media", table_name="subtitle_write_intents")
    op.drop_table("subtitle_write_intents")
