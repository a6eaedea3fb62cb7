# ruff: noqa: E501  (a data set laid out as a table reads better than wrapped)
"""A small read model written by hand, for the KPI, health and search tests: every figure
those tests expect is worked out from these rows in the test itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crossdock.buyers import buyer_key
from crossdock.models.order import Buyer, Channel
from crossdock.readmodel.store import ReadModelStore
from crossdock.readmodel.tables import (
    RmCase,
    RmDecision,
    RmDispute,
    RmOrder,
    RmOrderLine,
    RmParcel,
    RmRefund,
    RmReturn,
)
from crossdock.store import Base, Database

SECRET = b"seeded-read-model-secret-0123456"
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
BUYER = Buyer(name="Ines Probst", email="ines.probst@example.net")


def day(d: int, hour: float = 0) -> datetime:
    """`d` November 2026 (0: 31 October, 31: 1 December), `hour` hours in."""
    return START + timedelta(days=d - 1, hours=hour)


def order_row(workflow_id: str, channel: str, **fields: Any) -> RmOrder:
    values: dict[str, Any] = {
        "seq": 1,
        "channel_order_id": workflow_id.rsplit("-", 1)[-1],
        "buyer_key": "0" * 64,
        "state": "completed",
        "currency": "EUR",
        "total_minor": 1000,
        "shipping_minor": 0,
        "items": 1,
        "destination": "DE",
        "incoterm": "DAP",
        "ship_by": fields["placed_at"] + timedelta(days=2),
        "deliver_by": fields["placed_at"] + timedelta(days=8),
        "cancelled_by": "",
        "captured_minor": 0,
        "refunded_minor": 0,
        "duties_minor": 0,
        "taxes_minor": 0,
        "valid_tracking": False,
        "needs_attention": False,
        "on_hold": False,
        "customs_hold_seconds": 0.0,
        "replacement_of": "",
        "updated_at": fields["placed_at"],
    }
    values.update(fields)
    return RmOrder(workflow_id=workflow_id, channel=channel, **values)


def line(workflow_id: str, sku: str, quantity: int = 1, n: int = 0) -> RmOrderLine:
    return RmOrderLine(
        workflow_id=workflow_id, line=n, sku=sku, title=sku, quantity=quantity, unit_minor=100,
        currency="EUR",
    )  # fmt: skip


def dispute(
    workflow_id: str, order: str, provider: str, state: str, reason: str, opened: datetime
) -> RmDispute:
    return RmDispute(
        workflow_id=workflow_id, seq=1, provider=provider, dispute_id=workflow_id, order_workflow_id=order,
        reason=reason, state=state, amount_minor=1000, currency="EUR", opened_at=opened,
        decided_by="", rounds=1, updated_at=opened,
    )  # fmt: skip


def case(workflow_id: str, opened: datetime, first_response: float | None) -> RmCase:
    return RmCase(
        workflow_id=workflow_id, seq=1, channel="storefront", order_workflow_id="", state="answered",
        intents="where_is_my_order", opened_at=opened, first_response_seconds=first_response,
        answered=1, answered_late=0, missed=0, updated_at=opened,
    )  # fmt: skip


def seeded() -> list[list[Base]]:
    """The data set, one list of rows per workflow (its head first)."""
    buyer = buyer_key(SECRET, Channel.AMAZON, BUYER)
    a1 = "order-amazon-A1"
    return [
        [
            order_row(a1, "amazon", placed_at=day(1), total_minor=10000, buyer_key=buyer,
                      shipped_at=day(2), delivered_at=day(5), ship_by=day(3), deliver_by=day(6),
                      taxes_minor=1900, valid_tracking=True, customs_hold_seconds=7200.0),
            line(a1, "SKU-MUG"),
            RmParcel(workflow_id=a1, package=1, carrier="USPS", tracking_code="EZ4000000001",
                     tracking_status="delivered", outcome="delivered", last_scan_at=day(4)),
        ],
        [
            order_row("order-amazon-A2", "amazon", placed_at=day(10, 12), total_minor=5000,
                      shipped_at=day(12, 12), ship_by=day(11, 12), delivered_at=day(20, 12),
                      deliver_by=day(18), refunded_minor=2000),
            line("order-amazon-A2", "SKU-TEE", 2),
        ],
        [order_row("order-amazon-A3", "amazon", placed_at=day(15), currency="GBP", total_minor=3000,
                   destination="GB", state="cancelled", cancelled_at=day(15, 1), cancelled_by="buyer")],
        [order_row("order-amazon-A4", "amazon", placed_at=day(26), total_minor=7000,
                   state="cancelled", cancelled_at=day(26, 2), cancelled_by="seller")],
        [
            order_row("order-ebay-E1", "ebay", placed_at=day(5), currency="USD", total_minor=2500,
                      destination="US", shipped_at=day(6), ship_by=day(7), delivered_at=day(10),
                      deliver_by=day(12)),
            line("order-ebay-E1", "SKU-MUG"),
        ],
        [
            order_row("order-storefront-S1", "storefront", placed_at=END - timedelta(seconds=1),
                      currency="JPY", total_minor=4500, destination="JP", incoterm="DDP",
                      state="customs_hold", duties_minor=300, taxes_minor=450,
                      customs_hold_since=day(30), customs_hold_seconds=3600.0),
            line("order-storefront-S1", "SKU-TEA"),
        ],
        # On the period's edges: the end belongs to the next period, the day before to none.
        [order_row("order-storefront-S2", "storefront", placed_at=END, currency="JPY",
                   total_minor=9999, destination="JP")],
        [order_row("order-storefront-S0", "storefront", placed_at=day(0, 23.9), total_minor=8000,
                   destination="FR")],
        [
            RmReturn(workflow_id="return-amazon-R1", seq=1, channel="amazon", rma="R1",
                     order_workflow_id="order-amazon-A2", reason="damaged", state="refunded",
                     option="return_label", requested_at=day(21), skus="SKU-TEE",
                     refunded_minor=2000, currency="EUR", updated_at=day(22)),
            RmRefund(workflow_id="return-amazon-R1", step="refund", order_workflow_id="order-amazon-A2",
                     reason="damaged", skus="SKU-TEE", state="succeeded", amount_minor=2000,
                     currency="EUR"),
            RmRefund(workflow_id="return-amazon-R1", step="refund-0", order_workflow_id="order-amazon-A2",
                     reason="damaged", skus="SKU-TEE", state="failed", amount_minor=500,
                     currency="EUR"),
        ],
        [dispute("dispute-ebay-case-E1", "order-ebay-E1", "ebay-case", "lost", "product_not_received", day(12))],
        [dispute("dispute-stripe-S1", "order-storefront-S1", "stripe", "won", "fraudulent", day(30))],
        [dispute("dispute-stripe-S0", "order-storefront-S0", "stripe", "lost", "fraudulent", day(-15))],
        [dispute("dispute-amazon-A1", "order-amazon-A1", "amazon", "lost", "product_not_received", day(8))],
        [dispute("dispute-amazon-A2", "order-amazon-A2", "amazon", "won", "product_not_received", day(19))],
        [
            case("case-storefront-C1", day(10), 1800.0),
            RmDecision(workflow_id="case-storefront-C1", approval=0, decision=0, kind="reply",
                       state="pending", opened_at=day(30, 12)),
        ],
        [
            case("case-storefront-C2", day(20), 5400.0),
            RmDecision(workflow_id="case-storefront-C2", approval=0, decision=0, kind="reply",
                       state="approved", opened_at=day(20), closed_at=day(20, 1)),
        ],
        [case("case-storefront-C3", day(-10), 60.0)],
        [case("case-storefront-C4", day(25), None)],
    ]  # fmt: skip


def seed(db: Database) -> ReadModelStore:
    store = ReadModelStore(db)
    for rows in seeded():
        store.write(rows)
    return store
