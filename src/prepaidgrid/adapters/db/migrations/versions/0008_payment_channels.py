"""Payment channels: gateway orders, the life of each payment, cash counters and their
cashiers and receipts, and the settlement files imported for reconciliation (issue 5).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 06:28:12.070110
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
    )
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_events_reference", ["channel", "reference", "at"], unique=False
        )

    op.create_table(
        "settlement_imports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("settlement_day", sa.Date(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_imports")),
        sa.UniqueConstraint(
            "channel", "settlement_day", "file_sha256", name="uq_settlement_imports_file"
        ),
    )
    op.create_table(
        "counters",
        sa.Column("counter_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("subdivision_code", sa.String(length=40), nullable=False),
        sa.Column("signing_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subdivision_code"],
            ["org_units.code"],
            name=op.f("fk_counters_subdivision_code_org_units"),
        ),
        sa.PrimaryKeyConstraint("counter_id", name=op.f("pk_counters")),
    )
    op.create_table(
        "cashiers",
        sa.Column("cashier_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("counter_id", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.counter_id"], name=op.f("fk_cashiers_counter_id_counters")
        ),
        sa.PrimaryKeyConstraint("cashier_id", name=op.f("pk_cashiers")),
    )
    op.create_table(
        "payment_orders",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("gateway_txn_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('app', 'website')", name=op.f("ck_payment_orders_channel")),
        sa.CheckConstraint(
            "status IN ('created', 'pending', 'paid', 'failed')",
            name=op.f("ck_payment_orders_status"),
        ),
        sa.CheckConstraint("amount_paise > 0", name=op.f("ck_payment_orders_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_payment_orders_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_payment_orders")),
    )
    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.create_index("ix_payment_orders_status", ["status", "updated_at"], unique=False)

    op.create_table(
        "counter_receipts",
        sa.Column("receipt_no", sa.String(length=60), nullable=False),
        sa.Column("counter_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("cashier_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.CheckConstraint("amount_paise > 0", name=op.f("ck_counter_receipts_amount_positive")),
        sa.CheckConstraint("seq > 0", name=op.f("ck_counter_receipts_seq_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_counter_receipts_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["cashier_id"],
            ["cashiers.cashier_id"],
            name=op.f("fk_counter_receipts_cashier_id_cashiers"),
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.counter_id"],
            name=op.f("fk_counter_receipts_counter_id_counters"),
        ),
        sa.PrimaryKeyConstraint("receipt_no", name=op.f("pk_counter_receipts")),
        sa.UniqueConstraint("counter_id", "seq", name="uq_counter_receipts_counter_seq"),
    )
    with op.batch_alter_table("counter_receipts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_counter_receipts_cashier_issued", ["cashier_id", "issued_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("counter_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_counter_receipts_cashier_issued")

    op.drop_table("counter_receipts")
    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_orders_status")

    op.drop_table("payment_orders")
    op.drop_table("cashiers")
    op.drop_table("counters")
    op.drop_table("settlement_imports")
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_events_reference")

    op.drop_table("payment_events")
