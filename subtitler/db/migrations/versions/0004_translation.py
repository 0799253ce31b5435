"""translation schema: issue 9 (translation)

jobs.translation_provider and jobs.translated_characters; the translation_cache table keyed by
(provider, model, source, target, sha256 of the text).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("translation_provider", sa.String(32), nullable=True))
        batch.add_column(sa.Column("translated_characters", sa.Integer(), nullable=True))
    op.create_table(
        "translation_cache",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("model", sa.String(255), nullable=False, server_default=""),
        sa.Column("source_lang", sa.String(8), nullable=False),
        sa.Column("target_lang", sa.String(8), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("translation", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "uq_translation_cache_key",
        "translation_cache",
        ["provider", "model", "source_lang", "target_lang", "text_sha256"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_translation_cache_key", table_name="translation_cache")
    op.drop_table("translation_cache")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("translated_characters")
        batch.drop_column("translation_provider")
