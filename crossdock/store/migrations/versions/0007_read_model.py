"""The read model: rm_* tables the workflows project into (crossdock/readmodel), and the
health alerts of the hourly check.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_orders",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("channel_order_id", sa.String(64), nullable=False),
        sa.Column("buyer_key", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(2), nullable=False),
        sa.Column("incoterm", sa.String(3), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ship_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deliver_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(8), nullable=False),
        sa.Column("captured_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("duties_minor", sa.BigInteger(), nullable=False),
        sa.Column("taxes_minor", sa.BigInteger(), nullable=False),
        sa.Column("valid_tracking", sa.Boolean(), nullable=False),
        sa.Column("needs_attention", sa.Boolean(), nullable=False),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("approval_waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customs_hold_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customs_hold_seconds", sa.Float(), nullable=False),
        sa.Column("replacement_of", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rm_orders_buyer", "rm_orders", ["buyer_key"])
    op.create_index("ix_rm_orders_channel_order", "rm_orders", ["channel_order_id"])
    op.create_index("ix_rm_orders_placed", "rm_orders", ["placed_at"])
    op.create_index("ix_rm_orders_state", "rm_orders", ["state"])
    op.create_table(
        "rm_returns",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("rma", sa.String(100), nullable=False),
        sa.Column("order_workflow_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("option", sa.String(32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("skus", sa.String(500), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rm_returns_order", "rm_returns", ["order_workflow_id"])
    op.create_table(
        "rm_disputes",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("dispute_id", sa.String(255), nullable=False),
        sa.Column("order_workflow_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rm_disputes_order", "rm_disputes", ["order_workflow_id"])
    op.create_table(
        "rm_cases",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("order_workflow_id", sa.String(200), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("intents", sa.String(300), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_seconds", sa.Float(), nullable=True),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("answered_late", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rm_order_lines",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("line", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )
    op.create_index("ix_rm_order_lines_sku", "rm_order_lines", ["sku"])
    op.create_table(
        "rm_parcels",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("package", sa.Integer(), primary_key=True),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("tracking_code", sa.String(64), nullable=False),
        sa.Column("tracking_status", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_rm_parcels_tracking", "rm_parcels", ["tracking_code"])
    op.create_table(
        "rm_scans",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("entry", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
    )
    op.create_table(
        "rm_refunds",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("step", sa.String(64), primary_key=True),
        sa.Column("order_workflow_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("skus", sa.String(500), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )
    op.create_table(
        "rm_messages",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("line", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inbound", sa.Boolean(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("intent", sa.String(32), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
    )
    op.create_table(
        "rm_decisions",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("approval", sa.Integer(), primary_key=True),
        sa.Column("decision", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_rm_decisions_state", "rm_decisions", ["state"])

    op.create_table(
        "health_alerts",
        sa.Column("metric", sa.String(32), primary_key=True),
        sa.Column("destination", sa.String(2), primary_key=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("health_alerts")
    op.drop_index("ix_rm_decisions_state", "rm_decisions")
    op.drop_table("rm_decisions")
    op.drop_table("rm_messages")
    op.drop_table("rm_refunds")
    op.drop_table("rm_scans")
    op.drop_index("ix_rm_parcels_tracking", "rm_parcels")
    op.drop_table("rm_parcels")
    op.drop_index("ix_rm_order_lines_sku", "rm_order_lines")
    op.drop_table("rm_order_lines")
    op.drop_table("rm_cases")
    op.drop_index("ix_rm_disputes_order", "rm_disputes")
    op.drop_table("rm_disputes")
    op.drop_index("ix_rm_returns_order", "rm_returns")
    op.drop_table("rm_returns")
    op.drop_index("ix_rm_orders_buyer", "rm_orders")
    op.drop_index("ix_rm_orders_channel_order", "rm_orders")
    op.drop_index("ix_rm_orders_placed", "rm_orders")
    op.drop_index("ix_rm_orders_state", "rm_orders")
    op.drop_table("rm_orders")
