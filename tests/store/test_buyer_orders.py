"""Buyer history in the store (SQLite and PostgreSQL): counts strictly before the order,
the velocity window, idempotent recording, and the record activity."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.records import RecordsActivities
from crossdock.buyers import buyer_key
from crossdock.models.buyer_history import BuyerHistory, RecordBuyerOrderInput
from crossdock.models.order import Buyer, Channel
from crossdock.store import Database
from crossdock.store.buyer_orders import BuyerOrderRow, BuyerOrders

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
SECRET = b"buyer-history-test-secret-32byte"


def record(orders: BuyerOrders, order_id: str, at: datetime, key: str = "b1") -> BuyerHistory:
    return orders.record(
        buyer_key=key,
        order_workflow_id=f"order-ebay-{order_id}",
        placed_at=at,
        channel=Channel.EBAY,
        window=DAY,
    )


def test_a_new_buyer_has_no_history_and_later_orders_count_the_earlier(db: Database) -> None:
    orders = BuyerOrders(db)
    assert record(orders, "1", T0) == BuyerHistory(previous_orders=0, orders_in_window=0)
    assert record(orders, "2", T0 + timedelta(hours=1)).orders_in_window == 1
    third = record(orders, "3", T0 + timedelta(hours=2))
    assert (third.previous_orders, third.orders_in_window) == (2, 2)
    assert record(orders, "x", T0 + timedelta(hours=2), key="b2").first_time_buyer


def test_the_window_counts_only_the_last_24_hours(db: Database) -> None:
    orders = BuyerOrders(db)
    record(orders, "old", T0 - DAY - timedelta(seconds=1))
    record(orders, "edge", T0 - DAY)  # exactly 24 h before: still in the window
    record(orders, "recent", T0 - timedelta(minutes=5))
    history = record(orders, "now", T0)
    assert (history.previous_orders, history.orders_in_window) == (3, 2)


def test_only_orders_strictly_before_count(db: Database) -> None:
    orders = BuyerOrders(db)
    record(orders, "later", T0 + timedelta(hours=1))
    record(orders, "same-time", T0)
    assert record(orders, "this", T0) == BuyerHistory(previous_orders=0, orders_in_window=0)


def test_recording_again_gives_the_first_answer(db: Database) -> None:
    orders = BuyerOrders(db)
    first = record(orders, "1", T0)
    record(orders, "0", T0 - timedelta(hours=1))  # an earlier order recorded afterwards
    assert record(orders, "1", T0) == first
    assert orders.count("b1") == 2


def test_offsets_are_compared_as_instants(db: Database) -> None:
    orders = BuyerOrders(db)
    tokyo = timezone(timedelta(hours=9))
    record(orders, "1", (T0 - timedelta(hours=1)).astimezone(tokyo))
    assert record(orders, "2", T0).orders_in_window == 1


def test_a_naive_placed_at_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        record(BuyerOrders(db), "1", datetime(2026, 3, 2, 12, 0))


async def test_the_activity_stores_the_buyer_key_never_the_e_mail(db: Database) -> None:
    activities = RecordsActivities(db, SECRET)
    buyer = Buyer(name="Demo buyer 00042", email="buyer-00042@example.com")
    placed = [T0 + timedelta(hours=hour) for hour in range(5)]
    env = ActivityEnvironment()
    answers = [
        await env.run(
            activities.record_buyer_order,
            RecordBuyerOrderInput(
                order_workflow_id=f"order-storefront-SF{index}",
                channel=Channel.STOREFRONT,
                buyer=buyer,
                placed_at=at,
                window_hours=24,
            ),
        )
        for index, at in enumerate(placed)
    ]
    assert [a.orders_in_window for a in answers] == [0, 1, 2, 3, 4]
    with db.session() as session:
        rows = list(session.scalars(select(BuyerOrderRow)))
    assert {row.buyer_key for row in rows} == {buyer_key(SECRET, Channel.STOREFRONT, buyer)}
    assert all("buyer-00042" not in repr(vars(row)) for row in rows)


def test_concurrent_recordings_of_one_order_agree_and_store_one_row(db: Database) -> None:
    orders = BuyerOrders(db)
    record(orders, "0", T0 - timedelta(hours=1))
    start = threading.Barrier(4)

    def attempt(_: int) -> BuyerHistory:
        start.wait()
        return record(orders, "1", T0)

    with ThreadPoolExecutor(4) as pool:
        answers = set(pool.map(attempt, range(4)))
    assert answers == {BuyerHistory(previous_orders=1, orders_in_window=1)}
    assert orders.count("b1") == 2
