"""cluster schema: issue 11 (cluster nodes and leases)

The nodes table; jobs gain a lease (requeued by any live node when it runs out) and the node an
/asr upload is pinned to.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.Column("workers", sa.JSON(), nullable=False),
        sa.Column("duties", sa.JSON(), nullable=False),
        sa.Column("mappings", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_heartbeat", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime()))
        batch.add_column(sa.Column("pinned_node", sa.String(255)))
    op.create_index("ix_jobs_lease", "jobs", ["status", "lease_expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_jobs_lease", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("pinned_node")
        batch.drop_column("lease_expires_at")
    op.drop_table("nodes")
