"""The order's billing country: optional, validated, absent from older payloads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crossdock.models.order import Order
from crossdock.partners.ebay import EbayOrder
from tests.factories import order


def test_billing_country_is_optional_and_old_payloads_still_decode() -> None:
    payload = order().model_dump(mode="json")
    del payload["billing_country"]  # as recorded before the field existed
    assert Order.model_validate(payload).billing_country is None


def test_a_bad_billing_country_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as refused:
        order(billing_country="usa")
    assert "billing_country" in str(refused.value)
    assert "'usa' is not an ISO 3166 alpha-2 country code" in str(refused.value)


def test_ebay_billing_country_is_none_without_a_registration_address() -> None:
    base = {
        "orderId": "12-34567-89012",
        "creationDate": "2026-11-02T09:30:00.000Z",
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "PAID",
    }
    assert EbayOrder.model_validate(base).billing_country() is None
    registered = {"buyerRegistrationAddress": {"contactAddress": {"countryCode": "US"}}}
    assert EbayOrder.model_validate({**base, "buyer": registered}).billing_country() == "US"
