"""Alembic environment: runs on the connection handed in by `subtitler.db.migrate`."""

from __future__ import annotations

from alembic import context

from subtitler.db import (
    models_cluster,  # noqa: F401  (the nodes table)
    models_integrations,  # noqa: F401  (its tables in the metadata)
    models_translation,  # noqa: F401  (its table in the metadata)
)
from subtitler.db.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through subtitler.db.migrate (subtitler db upgrade)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported")
run_migrations_online()
