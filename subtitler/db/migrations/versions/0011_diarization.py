"""who is speaking: issue 24

- `jobs.diarization`: the diarization stage's summary (speaker count, each speaker's talk time,
  turns, seconds it took), null for jobs without speakers.
- `scan_rules.diarize`: a rule's action asks for speakers (null: the diarization_enabled setting).

Revision ID: 0011_diarization
Revises: 0010_forced
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_diarization"
down_revision: str | None = "0010_forced"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("diarization", sa.JSON(), nullable=True))
    with op.batch_alter_table("scan_rules") as batch:
        batch.add_column(sa.Column("diarize", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan_rules") as batch:
        batch.drop_column("diarize")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("diarization")
