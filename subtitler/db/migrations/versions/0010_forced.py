"""forced subtitles: issue 22

- `jobs.passages`: the foreign-language passages a forced job found (start, end, language,
  confidence), and `jobs.forced_passages`: how many got cues (0: no forced subtitle written).

Revision ID: 0010_forced
Revises: 0009_library
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_forced"
down_revision: str | None = "0009_library"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("passages", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("forced_passages", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("forced_passages")
        batch.drop_column("passages")
