"""jobs api schema: issue 12 (jobs and integrator API)

One live job per output file (video, output language, variant tag) whatever the task; the job's
channel, rule, callback and retry backoff; stored cues of completed jobs; named API tokens;
idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('queued', 'processing')"
OLD_ACTIVE = "status IN ('queued', 'processing', 'completed')"

# Before the new index: of two live jobs that write the same file, the better one stays (running
# first, then priority, then the older id); the others are cancelled as duplicates.
_CANCEL_TWINS = """
UPDATE jobs SET status = 'cancelled', error_code = 'duplicate_job',
    error = 'another job writes the same subtitle (merged by the 0003 upgrade)'
WHERE status IN ('queued', 'processing') AND EXISTS (
    SELECT 1 FROM jobs AS j2
    WHERE j2.id <> jobs.id AND j2.file_path = jobs.file_path
      AND coalesce(j2.target_lang, '') = coalesce(jobs.target_lang, '')
      AND j2.status IN ('queued', 'processing')
      AND (
        (j2.status = 'processing' AND jobs.status <> 'processing')
        OR (
          (j2.status = 'processing') = (jobs.status = 'processing')
          AND (j2.priority > jobs.priority OR (j2.priority = jobs.priority AND j2.id < jobs.id))
        )
      )
)
"""


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=16), nullable=False, server_default="api")
        )
        batch.add_column(sa.Column("rule_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rule_name", sa.Text(), nullable=True))
        batch.add_column(sa.Column("callback_url", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("variant", sa.String(length=32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("not_before", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("auto_retry_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.drop_index("uq_jobs_active_target", table_name="jobs")
    op.execute(sa.text(_CANCEL_TWINS))
    op.create_index(
        "uq_jobs_live_output",
        "jobs",
        ["file_path", sa.text("coalesce(target_lang, '')"), "variant"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.create_index("ix_jobs_channel", "jobs", ["channel"])

    op.create_table(
        "job_cues",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("cues", sa.JSON(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", "route"),
    )
    op.create_index("ix_idempotency_created", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("api_tokens")
    op.drop_table("job_cues")
    op.drop_index("ix_jobs_channel", table_name="jobs")
    op.drop_index("uq_jobs_live_output", table_name="jobs")
    with op.batch_alter_table("jobs", schema=None) as batch:
        for column in (
            "auto_retry_count", "not_before", "variant", "callback_url", "rule_name", "rule_id",
            "channel",
        ):  # fmt: skip
            batch.drop_column(column)
    # After the table copy (SQLite's batch mode does not carry expression indexes over). Fails if
    # a completed job and a live one share an output (a redo): finish or cancel it first.
    op.create_index(
        "uq_jobs_active_target",
        "jobs",
        ["file_path", sa.text("coalesce(target_lang, '')"), "transcribe_or_translate"],
        unique=True,
        sqlite_where=sa.text(OLD_ACTIVE),
        postgresql_where=sa.text(OLD_ACTIVE),
    )
