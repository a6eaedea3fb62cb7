"""Operators' language and time zone, cases assigned to operators, saved views.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_preferences",
        sa.Column("account_id", sa.String(64), sa.ForeignKey("users.account_id"), primary_key=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
    )
    op.create_table(
        "case_assignments",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("users.account_id"), nullable=False),
        sa.Column("assigned_by", sa.String(64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_assignments_account_id", "case_assignments", ["account_id"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_saved_views_owner", "saved_views", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_saved_views_owner", "saved_views")
    op.drop_table("saved_views")
    op.drop_index("ix_case_assignments_account_id", "case_assignments")
    op.drop_table("case_assignments")
    op.drop_table("operator_preferences")
