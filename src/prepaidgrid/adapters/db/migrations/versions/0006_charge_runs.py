"""The billing run's batch journals: a daily charge names the journal that debited it.

The nightly run posts one journal per partition: one wallet posting per account (and the
arrears instalment lines) plus the utility's side summed once. So a billed day no longer
has a journal of its own; `daily_charges.journal_id` points at the posting journal (NULL
for days posted one at a time, whose journal is found by its key `charge:{account}:{day}`).
The explanation becomes optional: the run stores the figures and the statement rebuilds the
lines from the tariff (they are a pure function of the stored month-to-date figures).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("daily_charges") as batch:
        batch.add_column(sa.Column("journal_id", sa.Uuid(), nullable=True))
        batch.alter_column("explanation", existing_type=sa.JSON(), nullable=True)
    op.create_index(
        op.f("ix_daily_charges_journal_id"), "daily_charges", ["journal_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_daily_charges_journal_id"), table_name="daily_charges")
    op.execute("UPDATE daily_charges SET explanation = '[]' WHERE explanation IS NULL")
    with op.batch_alter_table("daily_charges") as batch:
        batch.alter_column("explanation", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("journal_id")
