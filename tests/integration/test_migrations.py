"""Migrations build exactly the schema the code expects, and running them twice is harmless."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from prepaidgrid.adapters.db.migrate import current_revision, head_revision, upgrade
from prepaidgrid.adapters.db.partitions import include_name
from prepaidgrid.adapters.db.tables import metadata

pytestmark = pytest.mark.integration


def test_the_migrated_schema_matches_the_tables_the_code_uses(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        diff = compare_metadata(context, metadata)

    assert diff == []


def test_upgrading_twice_changes_nothing(engine: Engine) -> None:
    assert upgrade(engine) == head_revision() == current_revision(engine)
