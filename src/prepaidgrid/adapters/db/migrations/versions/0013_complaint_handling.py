"""Complaint handling (issue 7): each complaint's diagnosis, escalation level, assigned
officer, check meter day and last resolution; the kind of each history event; and one row
per escalation level a complaint climbed (the key makes the sweep idempotent).

Revision ID: 0013_complaint_handling
Revises: 0012_notification_delivery
Create Date: 2026-12-07 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_complaint_handling"
down_revision = "0012_notification_delivery"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("diagnosis", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("assigned_to", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("check_meter_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_complaints_assigned_to_officers"),
            "officers",
            ["assigned_to"],
            ["officer_id"],
        )
        batch.create_check_constraint(
            op.f("ck_complaints_escalation_level"), "escalation_level >= 0"
        )
    with op.batch_alter_table("complaint_events") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=10), server_default="moved", nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_complaint_events_kind"),
            "kind IN ('opened', 'moved', 'note', 'reopened', 'escalated')",
        )
    op.execute("UPDATE complaint_events SET kind = 'opened' WHERE from_status IS NULL")
    op.create_table(
        "complaint_escalations",
        sa.Column("complaint_id", BigId, nullable=False),
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level > 0", name=op.f("ck_complaint_escalations_level_positive")),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_escalations_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("complaint_id", "level", name=op.f("pk_complaint_escalations")),
    )


def downgrade() -> None:
    op.drop_table("complaint_escalations")
    with op.batch_alter_table("complaint_events") as batch:
        batch.drop_constraint(op.f("ck_complaint_events_kind"), type_="check")
        batch.drop_column("kind")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_constraint(op.f("ck_complaints_escalation_level"), type_="check")
        batch.drop_constraint(op.f("fk_complaints_assigned_to_officers"), type_="foreignkey")
        batch.drop_column("resolved_at")
        batch.drop_column("check_meter_on")
        batch.drop_column("assigned_to")
        batch.drop_column("escalation_level")
        batch.drop_column("diagnosis")
