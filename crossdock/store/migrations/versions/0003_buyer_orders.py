"""Buyer history for the risk rules: orders under pseudonymous buyer keys.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buyer_orders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("buyer_key", sa.String(64), nullable=False),
        sa.Column("order_workflow_id", sa.String(255), nullable=False, unique=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("previous_orders", sa.Integer, nullable=False),
        sa.Column("orders_in_window", sa.Integer, nullable=False),
    )
    op.create_index("ix_buyer_orders_buyer_placed", "buyer_orders", ["buyer_key", "placed_at"])


def downgrade() -> None:
    op.drop_index("ix_buyer_orders_buyer_placed", "buyer_orders")
    op.drop_table("buyer_orders")
