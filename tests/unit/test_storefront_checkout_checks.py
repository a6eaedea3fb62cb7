"""The pieces of storefront intake: the checkout signature (interoperable with Stripe's
scheme, which it copies), the catalog's checks, naming differences, the rate limiter."""

from __future__ import annotations

import json

import pytest
import stripe

from crossdock.catalog import default_catalog
from crossdock.models.order import LineItem
from crossdock.money import Money
from crossdock.sandbox.storefront import SIGNATURE_HEADER, sign
from starter.rate_limit import RateLimiter
from starter.storefront_intake import differences
from starter.stripe_signature import SignatureRefused, verify
from tests.factories import order

SECRET = "storefront-test-secret-0123456789"
NOW = 1_790_000_000
BODY = json.dumps(order().model_dump(mode="json")).encode()


def test_the_storefronts_signature_verifies_and_is_stripes_scheme() -> None:
    header = sign(BODY, SECRET, NOW)[SIGNATURE_HEADER]
    assert verify(BODY, header, SECRET, NOW + 5, name=SIGNATURE_HEADER).timestamp == NOW
    # The same scheme as Stripe's: its library accepts what the storefront signs.
    stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=None)


@pytest.mark.parametrize(
    ("body", "secret", "now", "why"),
    [
        (BODY.replace(b"Lyon", b"Nice"), SECRET, NOW, "no v1 signature matches"),
        (BODY, "another-install-secret-0123456789", NOW, "no v1 signature matches"),
        (BODY, SECRET, NOW + 301, "s old; tolerance 300 s"),
        (BODY, SECRET, NOW - 301, "in the future; tolerance 300 s"),
    ],
    ids=["altered", "other_install", "stale", "future"],
)
def test_altered_foreign_and_untimely_checkouts_are_refused(
    body: bytes, secret: str, now: int, why: str
) -> None:
    header = sign(BODY, SECRET, NOW)[SIGNATURE_HEADER]
    with pytest.raises(SignatureRefused, match=why) as refused:
        verify(body, header, secret, now, name=SIGNATURE_HEADER)
    assert SIGNATURE_HEADER in str(refused.value) or "v1" in str(refused.value)


def test_a_catalog_order_passes_the_catalog() -> None:
    assert default_catalog().mismatches(order()) == []


def _with(**line: object) -> list[tuple[str, str]]:
    item = LineItem(**{**order().items[0].model_dump(), **line})
    return default_catalog().mismatches(order(items=[item]))


def test_what_the_catalog_contradicts_is_named_by_field() -> None:
    """Probe: a free mug and -9.90 EUR shipping reached payment."""
    assert [f for f, _ in _with(unit_price=Money(amount=1, currency="EUR"))] == [
        "items[0].unit_price"
    ]
    assert [f for f, _ in _with(sku="MUG-GOLD")] == ["items[0].sku"]
    assert [f for f, _ in _with(hs_code="999999", weight_grams=1)] == [
        "items[0].hs_code",
        "items[0].weight_grams",
    ]
    cheap_shipping = order(shipping=Money(amount=0, currency="EUR"))
    assert [f for f, _ in default_catalog().mismatches(cheap_shipping)] == ["shipping"]


def test_a_currency_the_shop_does_not_sell_in_is_refused() -> None:
    """Probe: a KWD checkout was accepted, then cancelled "no FX rate for KWD"."""
    item = order().items[0].model_copy(update={"unit_price": Money(amount=1800, currency="KWD")})
    kwd = order(items=[item], currency="KWD", shipping=Money(amount=990, currency="KWD"))
    assert [f for f, _ in default_catalog().mismatches(kwd)] == ["items[0].unit_price", "currency"]


def test_differences_name_fields_without_showing_values() -> None:
    ours = order().model_dump(mode="json")
    theirs = order(ship_to=order().ship_to.model_copy(update={"name": "Mallory"}))
    found = list(differences(ours, theirs.model_dump(mode="json")))
    assert found == [("ship_to.name", "differs from the storefront's record")]
    assert list(differences(ours, ours)) == []


def test_the_rate_limiter_allows_bursts_then_refills_per_source() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0], sources=2)
    assert [limiter.wait("a") for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
    assert limiter.wait("b") == 0.0  # another source has its own bucket
    now[0] = 0.5
    assert limiter.wait("a") == 0.0  # refilled one token in half a second
    limiter.wait("c")  # a third source: the least recently seen ("b") is forgotten
    assert len(limiter._buckets) == 2
