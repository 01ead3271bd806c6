"""Ledger triggers per statement on PostgreSQL, for bulk journals (SQLite: nothing changes).

Revision 0001's row triggers re-summed a posting's whole journal once per posting at
commit, which is quadratic in the size of a journal, and updated a balance row once per
posting. The billing run writes one journal of tens of thousands of wallet postings, so
the checks now run once per INSERT statement over its transition table: see
adapters/db/triggers.py for the design and the insert protocol it relies on. The deferred
foreign key from postings to journals, and the append-only triggers, stay as they were.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:30:00.000000
"""

from __future__ import annotations

from alembic import op

from prepaidgrid.adapters.db import triggers

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in [
        *triggers.DROP_POSTGRESQL_ROW_LEVEL,
        *triggers.POSTGRESQL_STATEMENT_LEVEL,
    ]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in [
        *triggers.DROP_POSTGRESQL_STATEMENT_LEVEL,
        *triggers.POSTGRESQL_ROW_LEVEL,
    ]:
        op.execute(statement)
