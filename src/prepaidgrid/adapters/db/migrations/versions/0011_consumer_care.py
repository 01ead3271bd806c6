"""Consumer care (issue 6/7): consumers' complaints and their history, alert preferences
per account, and changes of an account's mobile or e-mail confirmed by a one-time code.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("payment_reference", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "category IN ('recharge_not_credited', 'not_reconnected', 'high_deduction', "
            "'meter_fault', 'mobile_change', 'other')",
            name=op.f("ck_complaints_category"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'resolved', 'closed')",
            name=op.f("ck_complaints_status"),
        ),
        sa.CheckConstraint(
            "length(description) BETWEEN 1 AND 2000",
            name=op.f("ck_complaints_description_length"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_complaints_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint(
            "account_id", "client_key", name=op.f("uq_complaints_account_client_key")
        ),
    )
    op.create_index("ix_complaints_account_opened", "complaints", ["account_id", "opened_at"])
    op.create_index("ix_complaints_status_due", "complaints", ["status", "due_on"])
    op.create_table(
        "complaint_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("complaint_id", BigId, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_events_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
    )
    op.create_index("ix_complaint_events_complaint_at", "complaint_events", ["complaint_id", "at"])
    op.create_table(
        "alert_preferences",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("is_daily_summary_on", sa.Boolean(), nullable=False),
        sa.Column("is_low_balance_on", sa.Boolean(), nullable=False),
        sa.Column("low_balance_paise", sa.BigInteger(), nullable=False),
        sa.Column("is_sms_on", sa.Boolean(), nullable=False),
        sa.Column("is_email_on", sa.Boolean(), nullable=False),
        sa.Column("quiet_from_minute", sa.Integer(), nullable=False),
        sa.Column("quiet_until_minute", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "low_balance_paise > 0", name=op.f("ck_alert_preferences_threshold_positive")
        ),
        sa.CheckConstraint(
            "quiet_from_minute BETWEEN 0 AND 1439 AND quiet_until_minute BETWEEN 0 AND 1439 "
            "AND quiet_from_minute <> quiet_until_minute",
            name=op.f("ck_alert_preferences_quiet_hours"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_alert_preferences_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_alert_preferences")),
    )
    op.create_table(
        "contact_codes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=6), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('mobile', 'email')", name=op.f("ck_contact_codes_kind")),
        sa.CheckConstraint("tries >= 0", name=op.f("ck_contact_codes_tries_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_contact_codes_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_codes")),
    )
    op.create_index(
        "ix_contact_codes_account_created",
        "contact_codes",
        ["account_id", "kind", "created_at"],
    )
    op.create_index("ix_contact_codes_target_created", "contact_codes", ["target", "created_at"])
    op.create_table(
        "contact_changes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=6), nullable=False),
        sa.Column("old_value", sa.String(length=200), nullable=True),
        sa.Column("new_value", sa.String(length=200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_id", BigId, nullable=False),
        sa.CheckConstraint("kind IN ('mobile', 'email')", name=op.f("ck_contact_changes_kind")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_contact_changes_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["contact_codes.id"],
            name=op.f("fk_contact_changes_code_id_contact_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_changes")),
        sa.UniqueConstraint("code_id", name=op.f("uq_contact_changes_code_id")),
    )
    op.create_index(
        "ix_contact_changes_account_at", "contact_changes", ["account_id", "changed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_contact_changes_account_at", table_name="contact_changes")
    op.drop_table("contact_changes")
    op.drop_index("ix_contact_codes_target_created", table_name="contact_codes")
    op.drop_index("ix_contact_codes_account_created", table_name="contact_codes")
    op.drop_table("contact_codes")
    op.drop_table("alert_preferences")
    op.drop_index("ix_complaint_events_complaint_at", table_name="complaint_events")
    op.drop_table("complaint_events")
    op.drop_index("ix_complaints_status_due", table_name="complaints")
    op.drop_index("ix_complaints_account_opened", table_name="complaints")
    op.drop_table("complaints")
