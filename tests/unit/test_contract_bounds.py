"""The order contract refuses absurd values, naming the field (issue 18, the probes of
"contracts accept absurd values"), and keeps the real ones (Unicode names, RTL, emoji).
Bounds that hold always are checked on any validation; those that depend on the clock or
on the FX and customs tables only at the door (`arriving`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from crossdock.models.bounds import (
    ARRIVAL,
    MAX_LINES,
    MAX_QUANTITY,
    TRADED_CURRENCIES,
    arriving,
    max_amount,
)
from crossdock.models.order import Address, Buyer, Channel, Order
from crossdock.money import Money
from tests.factories import NOW, line_item, order


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def refused(build: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        build(*args, **kwargs)
    return str(caught.value)


def test_the_ceiling_is_a_hundred_thousand_euros_in_each_currency() -> None:
    assert max_amount("EUR") == 100_000_00
    assert max_amount("JPY") == 17_376_000  # 173.76 JPY per EUR, no minor unit
    assert max_amount("GBP") == 87_300_00


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        ({"unit_price": eur(-100)}, "unit_price", "more than 0"),
        ({"unit_price": eur(0)}, "unit_price", "more than 0"),
        ({"unit_price": eur(10**30)}, "unit_price", "is not an amount"),
        ({"quantity": 10**9}, "quantity", f"less than or equal to {MAX_QUANTITY}"),
        ({"title": "x" * 10_000}, "title", "at most 500 characters"),
        ({"sku": "MUG\x00STONEWARE"}, "sku", "control character U+0000"),
    ],
)
def test_absurd_lines_are_refused_naming_the_field(
    item: dict[str, Any], field: str, message: str
) -> None:
    text = refused(line_item, **item)
    assert field in text and message in text


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"shipping": eur(-990)}, "shipping", "0 or more"),
        ({"shipping": eur(10**30)}, "shipping", "is not an amount"),
        ({"items": [line_item(sku=f"S{n}") for n in range(1000)]}, "items", f"{MAX_LINES}"),
        ({"placed_at": datetime(9999, 12, 31, tzinfo=UTC)}, "placed_at", "2000 and 2100"),
        ({"payment_method": "pm_\x00"}, "payment_method", "control character"),
    ],
)
def test_absurd_orders_are_refused_naming_the_field(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    text = refused(order, **overrides)
    assert field in text and message in text


def test_a_zero_shipping_charge_is_fine() -> None:
    assert arriving(order(shipping=eur(0)), NOW).shipping.amount == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"items": [line_item(unit_price=eur(100_000_01), quantity=1)]}, "unit_price"),
        ({"shipping": eur(100_000_01)}, "shipping"),
        ({"items": [line_item(quantity=MAX_QUANTITY, unit_price=eur(5_000_00))]}, "order total"),
    ],
)
def test_the_door_refuses_amounts_over_the_ceiling(overrides: dict[str, Any], field: str) -> None:
    big = order(**overrides)  # a recorded order this big still decodes
    text = refused(arriving, big, NOW)
    assert field in text and "at most 100000.00 EUR" in text


@pytest.mark.parametrize(
    ("build", "fields", "message"),
    [
        (Buyer, {"name": "n" * 10_000}, "at most 200 characters"),
        (Buyer, {"name": "Mallory\x00"}, "control character U+0000"),
        (Buyer, {"name": "Ann", "email": "not-an-email"}, "not an e-mail address"),
        (Buyer, {"name": "Ann", "email": "a@" + "b" * 250 + ".de"}, "at most 254"),
        (Address, {"name": "A", "line1": "1 Rd", "city": "X", "country": "ZZ"}, "'ZZ'"),
        (Address, {"name": "A", "line1": "1\nRd", "city": "X", "country": "DE"}, "U+000A"),
    ],
)
def test_absurd_people_and_places_are_refused(
    build: Any, fields: dict[str, Any], message: str
) -> None:
    assert message in refused(build, **fields)


def test_ship_to_must_be_a_destination_the_customs_rules_know() -> None:
    # CH is a real country (an address may be there) but no customs rules cover it yet.
    ship_to = Address(name="A", line1="1 Rd", city="Bern", country="CH")
    text = refused(arriving, order(ship_to=ship_to), NOW)
    assert "ship_to.country" in text and "'CH'" in text and "customs" in text


def test_a_currency_without_an_fx_rate_is_refused_at_the_door_naming_it() -> None:
    checkout = order().model_dump()
    kwd = {"amount": 1250, "currency": "KWD"}
    checkout.update(currency="KWD", shipping=kwd)
    checkout["items"][0]["unit_price"] = kwd
    assert Order.model_validate(checkout).currency == "KWD"  # a recorded one decodes
    text = refused(Order.model_validate, checkout, context={ARRIVAL: NOW})
    assert "currency" in text and "'KWD'" in text and "no FX rate" in text
    assert "KWD" not in TRADED_CURRENCIES and "JPY" in TRADED_CURRENCIES


def test_real_names_in_any_script_are_kept() -> None:
    names = ["Zoë Ångström-Ñúñez", "محمد عبد الله", "שלום כהן", "田中 太郎", "Ana 👩‍🔧 Ruiz"]
    for name in names:
        o = order(
            buyer=Buyer(name=name, email="zoë@exämple.de"),
            ship_to=Address(name=name, line1="Straße 1", city="Köln", country="DE"),
        )
        assert o.buyer.name == name and o.ship_to.name == name


def test_the_door_refuses_dates_outside_the_windows_around_now() -> None:
    now = datetime.now(UTC)
    placed = order(
        placed_at=now, ship_by=now + timedelta(days=2), deliver_by=now + timedelta(days=9)
    )
    assert arriving(placed, now) == placed
    future = order(
        placed_at=datetime(2099, 12, 31, tzinfo=UTC),
        ship_by=datetime(2099, 12, 31, tzinfo=UTC),
        deliver_by=datetime(2099, 12, 31, tzinfo=UTC),
    )
    assert "placed_at" in refused(arriving, future, now)
    long_ago = now - timedelta(days=3 * 365)
    stale = order(placed_at=long_ago, ship_by=long_ago, deliver_by=long_ago)
    text = refused(arriving, stale, now)
    assert "ship_by" in text and "days before now" in text


def test_histories_old_orders_still_decode_without_the_door_windows() -> None:
    # A workflow replaying an order placed years ago validates it without a clock.
    long_ago = datetime(2021, 3, 1, tzinfo=UTC)
    old = order(placed_at=long_ago, ship_by=long_ago, deliver_by=long_ago)
    assert type(old).model_validate_json(old.model_dump_json()) == old
    assert old.channel is Channel.STOREFRONT
