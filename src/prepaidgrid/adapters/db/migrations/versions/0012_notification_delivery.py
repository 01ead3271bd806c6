"""Notification delivery (issue 7): where each SMS or e-mail of the outbox stands, every
attempt to hand it to its gateway, and the consumers' portal inbox.

Revision ID: 0012_notification_delivery
Revises: 0011
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_notification_delivery"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("outbox_id", BigId, nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'deferred', 'sent', 'failed', 'skipped')",
            name=op.f("ck_deliveries_status"),
        ),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_deliveries_channel")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_deliveries_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_deliveries_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_deliveries")),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "notification_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("outbox_id", BigId, nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "outcome IN ('sent', 'retry', 'refused')",
            name=op.f("ck_notification_attempts_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_notification_attempts_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempts")),
    )
    op.create_index(
        "ix_notification_attempts_channel_at", "notification_attempts", ["channel", "at"]
    )
    op.create_index("ix_notification_attempts_outbox", "notification_attempts", ["outbox_id"])
    op.create_table(
        "inbox_messages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_inbox_messages_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_messages")),
        sa.UniqueConstraint("source_key", name=op.f("uq_inbox_messages_source_key")),
    )
    op.create_index(
        "ix_inbox_messages_account_created", "inbox_messages", ["account_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_messages_account_created", table_name="inbox_messages")
    op.drop_table("inbox_messages")
    op.drop_index("ix_notification_attempts_outbox", table_name="notification_attempts")
    op.drop_index("ix_notification_attempts_channel_at", table_name="notification_attempts")
    op.drop_table("notification_attempts")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
