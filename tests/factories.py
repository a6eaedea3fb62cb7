"""Building valid test data; tests override only what they are about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crossdock.models.order import Address, Buyer, Channel, Incoterm, LineItem, Order
from crossdock.money import Money

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

WAREHOUSE = Address(
    name="Warehouse", line1="Am Sandtorkai 1", city="Hamburg", postal_code="20457", country="DE"
)


def line_item(**overrides: Any) -> LineItem:
    fields: dict[str, Any] = {
        "sku": "MUG-STONEWARE",
        "title": "Stoneware mug 350 ml",
        "quantity": 2,
        "unit_price": Money(amount=1800, currency="EUR"),
        "hs_code": "691200",
        "origin_country": "DE",
        "weight_grams": 420,
        "line_id": "10001",
    }
    return LineItem(**{**fields, **overrides})


def order(**overrides: Any) -> Order:
    fields: dict[str, Any] = {
        "channel": Channel.STOREFRONT,
        "channel_order_id": "SF10000001",
        "buyer": Buyer(name="Demo buyer 00001", email="buyer-00001@example.com"),
        "ship_to": Address(
            name="Demo buyer 00001",
            line1="1 Demo Street",
            city="Lyon",
            postal_code="69001",
            country="FR",
        ),
        "items": [line_item()],
        "currency": "EUR",
        "shipping": Money(amount=990, currency="EUR"),
        "placed_at": NOW,
        "ship_by": NOW + timedelta(days=2),
        "deliver_by": NOW + timedelta(days=10),
        "incoterm": Incoterm.DDP,
        "payment_method": "pm_card_visa",
    }
    fields.update(overrides)
    if fields["channel"] is not Channel.STOREFRONT and "payment_method" not in overrides:
        fields["payment_method"] = None
    return Order(**fields)
