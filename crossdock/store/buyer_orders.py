"""Buyer history: every order Crossdock screened, under its buyer's pseudonymous key.

The risk rules need to know whether a buyer is new and how many orders they placed in
the velocity window; Temporal cannot answer that across workflows, so each order is
recorded here once (`BuyerOrders.record`, migration 0003). Rows hold the buyer key
(`crossdock.buyers`), never an e-mail or a name.

Recording is idempotent by order workflow id: a retried activity gets the answer the
first recording gave, even if an earlier-placed order was recorded in between.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Index, Integer, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from crossdock.models.buyer_history import BuyerHistory
from crossdock.models.order import Channel
from crossdock.store import Base, Database


class BuyerOrderRow(Base):
    __tablename__ = "buyer_orders"
    __table_args__ = (Index("ix_buyer_orders_buyer_placed", "buyer_key", "placed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    buyer_key: Mapped[str] = mapped_column(String(64))
    order_workflow_id: Mapped[str] = mapped_column(String(255), unique=True)
    # UTC; SQLite keeps no offset, so every value is converted before it is written.
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(String(16))
    # The answer the first recording gave, so a retry gets the same one.
    previous_orders: Mapped[int] = mapped_column(Integer)
    orders_in_window: Mapped[int] = mapped_column(Integer)


class BuyerOrders:
    """The buyer_orders table in Crossdock's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        *,
        buyer_key: str,
        order_workflow_id: str,
        placed_at: datetime,
        channel: Channel,
        window: timedelta,
    ) -> BuyerHistory:
        """Record one order and return its buyer's orders placed strictly before it.

        Args:
            buyer_key: the buyer's pseudonymous key.
            order_workflow_id: the order's workflow id (unique: records it once).
            placed_at: when the order was placed (time zone aware).
            channel: where it was sold.
            window: how far back `orders_in_window` counts.

        Raises:
            ValueError: `placed_at` has no time zone.
        """
        if placed_at.tzinfo is None:
            raise ValueError(f"placed_at {placed_at.isoformat()} has no time zone")
        placed = placed_at.astimezone(UTC)
        try:
            with self._db.session() as session:
                known = _recorded(session, order_workflow_id)
                if known is not None:
                    return known
                history = _history(session, buyer_key, placed, window)
                session.add(
                    BuyerOrderRow(
                        buyer_key=buyer_key,
                        order_workflow_id=order_workflow_id,
                        placed_at=placed,
                        channel=channel.value,
                        previous_orders=history.previous_orders,
                        orders_in_window=history.orders_in_window,
                    )
                )
                return history
        except IntegrityError:
            # Another attempt recorded the same order between our read and our insert.
            with self._db.session() as session:
                known = _recorded(session, order_workflow_id)
            if known is None:
                raise
            return known

    def count(self, buyer_key: str) -> int:
        """How many orders are recorded under `buyer_key`."""
        with self._db.session() as session:
            query = select(func.count()).where(BuyerOrderRow.buyer_key == buyer_key)
            return session.scalar(query) or 0


def _recorded(session: Session, order_workflow_id: str) -> BuyerHistory | None:
    row = session.scalars(
        select(BuyerOrderRow).where(BuyerOrderRow.order_workflow_id == order_workflow_id)
    ).one_or_none()
    if row is None:
        return None
    return BuyerHistory(previous_orders=row.previous_orders, orders_in_window=row.orders_in_window)


def _history(session: Session, buyer_key: str, placed: datetime, window: timedelta) -> BuyerHistory:
    before = select(func.count()).where(
        BuyerOrderRow.buyer_key == buyer_key, BuyerOrderRow.placed_at < placed
    )
    in_window = before.where(BuyerOrderRow.placed_at >= placed - window)
    return BuyerHistory(
        previous_orders=session.scalar(before) or 0,
        orders_in_window=session.scalar(in_window) or 0,
    )
