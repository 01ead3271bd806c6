"""Indexes for the payment read models: a channel's payments of a day (reconciliation), and
an account's outbox messages by time (a payment's reconnect command, in its timeline).
Without them both scan their whole table on a large database.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 07:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_payments_channel_received", "payments", ["channel", "received_at"], unique=False
    )
    op.create_index(
        "ix_outbox_account_created", "outbox", ["account_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_account_created", table_name="outbox")
    op.drop_index("ix_payments_channel_received", table_name="payments")
