"""The demo feed's risk inputs: billing countries (the ship-to's, or sometimes another
one) and regular buyers (who trip the velocity rule)."""

from __future__ import annotations

from datetime import UTC, datetime

from crossdock.demo import DemoOrders

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_without_a_rate_orders_are_billed_where_they_ship() -> None:
    demo = DemoOrders(seed=3)
    assert all(o.billing_country == o.ship_to.country for o in (demo.next(NOW) for _ in range(20)))


def test_billed_abroad_orders_name_another_country() -> None:
    demo = DemoOrders(seed=3, billing_abroad_rate=1.0)
    orders = [demo.next(NOW) for _ in range(20)]
    assert all(o.billing_country not in (None, o.ship_to.country) for o in orders)


def test_regular_buyers_come_back() -> None:
    demo = DemoOrders(seed=3, regular_rate=1.0)
    emails = {demo.next(NOW).buyer.email for _ in range(40)}
    assert emails <= {f"buyer-9000{n}@example.com" for n in range(5)}
    assert len(emails) > 1
