"""library truth: issue 18

- `library_files.detected_langs`: the audio languages jobs detected on a file's untagged tracks
  (",deu,"), so the Library shows them and the rules see them (subtitler.library.verdict).

Revision ID: 0009_library
Revises: 0008_write_intents
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_library"
down_revision: str | None = "0008_write_intents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("library_files") as batch:
        batch.add_column(sa.Column("detected_langs", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("library_files") as batch:
        batch.drop_column("detected_langs")
