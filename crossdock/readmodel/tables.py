"""The read model's tables (migration 0007): the workflows' projection, for lists,
search, health figures and KPIs. Every head row carries the sequence number of the
projection that wrote it; child rows are rewritten with their head.

Money is integer minor units beside its currency. Times are UTC. The buyer appears only
as their pseudonymous key (`crossdock.buyers`): no name, e-mail, address or message text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crossdock.store import Base

Id = String(200)
When = DateTime(timezone=True)


class RmOrder(Base):
    __tablename__ = "rm_orders"
    __table_args__ = (
        Index("ix_rm_orders_placed", "placed_at"),
        Index("ix_rm_orders_channel_order", "channel_order_id"),
        Index("ix_rm_orders_buyer", "buyer_key"),
        Index("ix_rm_orders_state", "state"),
    )

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16))
    channel_order_id: Mapped[str] = mapped_column(String(64))
    buyer_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[int] = mapped_column(Integer)
    destination: Mapped[str] = mapped_column(String(2))
    incoterm: Mapped[str] = mapped_column(String(3))
    placed_at: Mapped[datetime] = mapped_column(When)
    ship_by: Mapped[datetime] = mapped_column(When)
    deliver_by: Mapped[datetime] = mapped_column(When)
    shipped_at: Mapped[datetime | None] = mapped_column(When, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(When, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(When, nullable=True)
    # "buyer" (the buyer asked, through the channel) or "seller" (anything else).
    cancelled_by: Mapped[str] = mapped_column(String(8), default="")
    captured_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Duties and taxes quoted by customs, in the order's currency.
    duties_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    taxes_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    valid_tracking: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    approval_waiting_since: Mapped[datetime | None] = mapped_column(When, nullable=True)
    customs_hold_since: Mapped[datetime | None] = mapped_column(When, nullable=True)
    customs_hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    replacement_of: Mapped[str] = mapped_column(Id, default="")
    updated_at: Mapped[datetime] = mapped_column(When)


class RmOrderLine(Base):
    __tablename__ = "rm_order_lines"
    __table_args__ = (Index("ix_rm_order_lines_sku", "sku"),)

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class RmParcel(Base):
    __tablename__ = "rm_parcels"
    __table_args__ = (Index("ix_rm_parcels_tracking", "tracking_code"),)

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    package: Mapped[int] = mapped_column(Integer, primary_key=True)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_code: Mapped[str] = mapped_column(String(64))
    tracking_status: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    last_scan_at: Mapped[datetime | None] = mapped_column(When, nullable=True)


class RmScan(Base):
    __tablename__ = "rm_scans"

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    entry: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(When)
    detail: Mapped[str] = mapped_column(String(300))


class RmReturn(Base):
    __tablename__ = "rm_returns"
    __table_args__ = (Index("ix_rm_returns_order", "order_workflow_id"),)

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16))
    rma: Mapped[str] = mapped_column(String(100))
    order_workflow_id: Mapped[str] = mapped_column(Id)
    reason: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    option: Mapped[str] = mapped_column(String(32), default="")
    requested_at: Mapped[datetime] = mapped_column(When)
    skus: Mapped[str] = mapped_column(String(500))
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="")
    updated_at: Mapped[datetime] = mapped_column(When)


class RmRefund(Base):
    __tablename__ = "rm_refunds"

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_workflow_id: Mapped[str] = mapped_column(Id)
    reason: Mapped[str] = mapped_column(String(32))
    skus: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class RmDispute(Base):
    __tablename__ = "rm_disputes"
    __table_args__ = (Index("ix_rm_disputes_order", "order_workflow_id"),)

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(16))
    dispute_id: Mapped[str] = mapped_column(String(255))
    order_workflow_id: Mapped[str] = mapped_column(Id)
    reason: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    opened_at: Mapped[datetime] = mapped_column(When)
    due_by: Mapped[datetime | None] = mapped_column(When, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    rounds: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(When)


class RmCase(Base):
    __tablename__ = "rm_cases"

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16))
    order_workflow_id: Mapped[str] = mapped_column(Id)
    state: Mapped[str] = mapped_column(String(32))
    intents: Mapped[str] = mapped_column(String(300))
    opened_at: Mapped[datetime | None] = mapped_column(When, nullable=True)
    first_response_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    answered_late: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(When)


class RmMessage(Base):
    """One line of a buyer conversation, without its text (which may name the buyer)."""

    __tablename__ = "rm_messages"

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(When)
    inbound: Mapped[bool] = mapped_column(Boolean)
    by: Mapped[str] = mapped_column(String(64))
    intent: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    length: Mapped[int] = mapped_column(Integer, default=0)


class RmDecision(Base):
    """An approval of any lifecycle and the decisions on it."""

    __tablename__ = "rm_decisions"
    __table_args__ = (Index("ix_rm_decisions_state", "state"),)

    workflow_id: Mapped[str] = mapped_column(Id, primary_key=True)
    approval: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(When)
    closed_at: Mapped[datetime | None] = mapped_column(When, nullable=True)
    action: Mapped[str] = mapped_column(String(32), default="")
    by: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16), default="")
    at: Mapped[datetime | None] = mapped_column(When, nullable=True)


HEADS = (RmOrder, RmReturn, RmDispute, RmCase)
CHILDREN = (RmOrderLine, RmParcel, RmScan, RmRefund, RmMessage, RmDecision)


class HealthAlert(Base):
    """A health figure past its pre-breach level, raised by the hourly check and shown in
    the console's inbox until a later check finds it back under (`cleared_at`). Not a
    projection: a rebuild leaves it alone."""

    __tablename__ = "health_alerts"

    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    destination: Mapped[str] = mapped_column(String(2), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    rate: Mapped[float] = mapped_column(Float)
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[int] = mapped_column(Integer)
    raised_at: Mapped[datetime] = mapped_column(When)
    checked_at: Mapped[datetime] = mapped_column(When)
    cleared_at: Mapped[datetime | None] = mapped_column(When, nullable=True)
