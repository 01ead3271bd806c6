"""SQLite: consumer balances move once per journal, when it seals (PostgreSQL: unchanged).

The row trigger updated a balance per posting; a billing partition's journal has tens of
thousands. The journal's insert, which already checks that its postings balance, now
applies them in one grouped UPDATE (adapters/db/triggers.py). Measured on 100,001 postings:
2.2 s -> 1.2 s for postings and journal together.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 03:30:00.000000
"""

from __future__ import annotations

from alembic import op

from prepaidgrid.adapters.db import triggers

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER postings_maintain_balance")
    op.execute(triggers.SQLITE_JOURNAL_BALANCE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER journals_maintain_balance")
    op.execute(triggers.SQLITE_ROW_BALANCE)
