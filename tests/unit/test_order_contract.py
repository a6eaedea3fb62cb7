from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from crossdock.models.order import Channel
from crossdock.money import Money
from tests.factories import NOW, line_item, order


def test_totals_and_workflow_id() -> None:
    o = order(items=[line_item(quantity=2), line_item(sku="B", quantity=1)])
    assert o.items_total == Money(amount=5400, currency="EUR")
    assert o.order_total == Money(amount=6390, currency="EUR")
    assert o.workflow_id == "order-storefront-SF10000001"
    assert o.weight_grams == 3 * 420


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"items": []}, "items", "at least 1 item"),
        (
            {"currency": "EUR", "shipping": Money(amount=1, currency="GBP")},
            "",
            "shipping is in GBP",
        ),
        ({"placed_at": datetime(2026, 1, 1)}, "placed_at", "no time zone"),
        ({"deliver_by": NOW - timedelta(days=1)}, "", "deliver_by is before ship_by"),
        ({"channel_order_id": "has space"}, "channel_order_id", "pattern"),
        ({"payment_method": None}, "", "payment_method is required"),
    ],
)
def test_invalid_orders_name_the_field(
    overrides: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        order(**overrides)
    text = str(caught.value)
    assert message in text
    assert field in text


@pytest.mark.parametrize(
    ("item_overrides", "message"),
    [
        ({"hs_code": "12"}, "HS code '12' must have 6 to 10 digits"),
        ({"origin_country": "Germany"}, "'Germany' is not an ISO 3166 alpha-2"),
        ({"quantity": 0}, "quantity"),
        ({"unit_price": Money(amount=100, currency="USD")}, "items[0].unit_price is in USD"),
    ],
)
def test_invalid_items_are_refused(item_overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        order(items=[line_item(**item_overrides)])


def test_hs_code_dots_are_normalised_and_marketplaces_need_no_payment_method() -> None:
    assert line_item(hs_code="6912.00").hs_code == "691200"
    assert order(channel=Channel.AMAZON).payment_method is None


def test_order_survives_json_round_trip() -> None:
    o = order()
    assert type(o).model_validate_json(o.model_dump_json()) == o
