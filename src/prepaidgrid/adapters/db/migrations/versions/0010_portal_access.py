"""Portal access (issue 6): officers with a role and their divisions, consumers' one-time
login codes, portal sessions, the officers' append-only audit log, and accounts by mobile
(a consumer's login finds their connections), and the utility account that officers'
balance adjustments post against.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from prepaidgrid.adapters.db import triggers

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index("ix_accounts_mobile", "accounts", ["mobile"])
    op.create_table(
        "officers",
        sa.Column("officer_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'division_officer', 'cashier', 'auditor')",
            name=op.f("ck_officers_role"),
        ),
        sa.PrimaryKeyConstraint("officer_id", name=op.f("pk_officers")),
    )
    op.create_table(
        "officer_divisions",
        sa.Column("officer_id", sa.String(length=40), nullable=False),
        sa.Column("division_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["officers.officer_id"],
            name=op.f("fk_officer_divisions_officer_id_officers"),
        ),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["org_units.code"],
            name=op.f("fk_officer_divisions_division_code_org_units"),
        ),
        sa.PrimaryKeyConstraint("officer_id", "division_code", name=op.f("pk_officer_divisions")),
    )
    op.create_table(
        "login_codes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("mobile", sa.String(length=10), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("tries >= 0", name=op.f("ck_login_codes_tries_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_codes")),
    )
    op.create_index("ix_login_codes_mobile_created", "login_codes", ["mobile", "created_at"])
    op.create_table(
        "web_sessions",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('consumer', 'officer')", name=op.f("ck_web_sessions_kind")),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_web_sessions")),
    )
    op.create_index("ix_web_sessions_subject", "web_sessions", ["kind", "subject"])
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=100), server_default="", nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_log_target_at", "audit_log", ["target", "at"])
    # Officers' adjustments post against their own utility account. Revision 0001 seeds
    # every utility account of its day; a database made before this one lacks it.
    op.execute(
        sa.text(
            "INSERT INTO ledger_accounts (code, kind) SELECT :code, :kind WHERE NOT EXISTS "
            "(SELECT 1 FROM ledger_accounts WHERE code = :code)"
        ).bindparams(code="adjustment:manual", kind="manual_adjustment")
    )
    dialect = op.get_bind().dialect.name
    for statement in (
        triggers.SQLITE_AUDIT_APPEND_ONLY
        if dialect == "sqlite"
        else triggers.POSTGRESQL_AUDIT_APPEND_ONLY
    ):
        op.execute(statement)


def downgrade() -> None:
    for statement in triggers.DROP_AUDIT_APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_index("ix_audit_log_target_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_web_sessions_subject", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("ix_login_codes_mobile_created", table_name="login_codes")
    op.drop_table("login_codes")
    op.drop_table("officer_divisions")
    op.drop_table("officers")
    op.drop_index("ix_accounts_mobile", table_name="accounts")
