"""From an order's status to its read-model row: who cancelled, when it shipped, how
long customs held it, and the sequence numbers that order projections."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crossdock.models.lifecycle import TimelineEntry
from crossdock.models.order_states import OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.models.readmodel import SEQ_STEP, projection_seq
from crossdock.readmodel.rows import order_rows
from crossdock.readmodel.tables import RmOrder
from tests.factories import NOW, order


def moved(hours: float, state: OrderState) -> TimelineEntry:
    return TimelineEntry(at=NOW + timedelta(hours=hours), event="moved", state=state)


def head(status: OrderStatus) -> RmOrder:
    found = order_rows("order-amazon-X", 1, order(), status, "k")[0]
    assert isinstance(found, RmOrder)
    return found


@pytest.mark.parametrize(
    ("reason", "by"),
    [
        ("cancelled by intake:amazon: the buyer asked", "buyer"),
        ("cancelled by ops-1: out of stock", "seller"),
        ("card declined", "seller"),
    ],
)
def test_who_cancelled(reason: str, by: str) -> None:
    status = OrderStatus(
        state=OrderState.CANCELLED, reason=reason, timeline=[moved(1, OrderState.CANCELLED)]
    )
    row = head(status)
    assert (row.cancelled_by, row.cancelled_at) == (by, NOW + timedelta(hours=1))


def test_shipping_delivery_and_customs_hold_times() -> None:
    timeline = [
        moved(1, OrderState.CUSTOMS_DECLARED),
        moved(2, OrderState.CUSTOMS_HOLD),
        moved(5, OrderState.CUSTOMS_DECLARED),
        moved(6, OrderState.SHIPMENT_CONFIRMED),
        moved(30, OrderState.DELIVERED),
        moved(31, OrderState.EXCEPTION),
        moved(40, OrderState.DELIVERED),  # delivered again after an exception: the last
    ]
    row = head(OrderStatus(state=OrderState.DELIVERED, timeline=timeline))
    assert row.shipped_at == NOW + timedelta(hours=6)
    assert row.delivered_at == NOW + timedelta(hours=40)
    assert (row.customs_hold_since, row.customs_hold_seconds) == (None, 3 * 3600.0)
    assert row.cancelled_by == ""


def test_a_hold_still_open_counts_to_the_latest_entry() -> None:
    timeline = [moved(2, OrderState.CUSTOMS_HOLD), moved(3, OrderState.CUSTOMS_HOLD)]
    row = head(OrderStatus(state=OrderState.CUSTOMS_HOLD, timeline=timeline))
    assert row.customs_hold_since == NOW + timedelta(hours=2)
    assert row.customs_hold_seconds == 3600.0


def test_sequence_numbers_grow_with_the_timeline_then_with_changes_between() -> None:
    seqs = [
        projection_seq(3, 0),
        projection_seq(3, 1),
        projection_seq(3, 5000),
        projection_seq(4, 0),
    ]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    assert projection_seq(3, 5000) == 4 * SEQ_STEP - 1
