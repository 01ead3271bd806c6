"""Alembic environment: runs on the connection that `prepaidgrid db upgrade` hands it."""

from __future__ import annotations

from alembic import context

from prepaidgrid.adapters.db.partitions import include_name
from prepaidgrid.adapters.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run alembic without a connection
    raise RuntimeError("run migrations through `prepaidgrid db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=include_name,  # monthly partitions are not in tables.py
)
with context.begin_transaction():
    context.run_migrations()
