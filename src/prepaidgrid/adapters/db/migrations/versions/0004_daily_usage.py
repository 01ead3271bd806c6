"""Daily usage: one row per account and IST day, the consumption billing takes from VEE.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_usage",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("usage_day", sa.Date(), nullable=False),
        sa.Column("meter_id", sa.String(length=40), nullable=False),
        sa.Column("used_wh", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("opening_wh", sa.BigInteger(), nullable=True),
        sa.Column("closing_wh", sa.BigInteger(), nullable=True),
        sa.Column("max_demand_w", sa.Integer(), nullable=False),
        sa.Column("band_wh", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("used_wh >= 0", name=op.f("ck_daily_usage_used_nonnegative")),
        sa.CheckConstraint("max_demand_w >= 0", name=op.f("ck_daily_usage_demand_nonnegative")),
        sa.CheckConstraint(
            "method IN ('actual', 'average', 'fallback', 'apportioned')",
            name=op.f("ck_daily_usage_method"),
        ),
        sa.CheckConstraint(
            "method <> 'actual' OR (opening_wh IS NOT NULL AND closing_wh IS NOT NULL"
            " AND used_wh = closing_wh - opening_wh)",
            name=op.f("ck_daily_usage_actual_is_measured"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_daily_usage_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "usage_day", name=op.f("pk_daily_usage")),
    )
    with op.batch_alter_table("daily_usage", schema=None) as batch_op:
        batch_op.create_index("ix_daily_usage_day", ["usage_day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("daily_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_usage_day")

    op.drop_table("daily_usage")
