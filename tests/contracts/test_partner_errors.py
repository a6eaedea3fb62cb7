"""Refusals in each partner's own shape: card errors, unknown parameters, and routes no
partner has (which FastAPI would answer `{"detail": "Not Found"}`)."""

from __future__ import annotations

import httpx
import pytest

from crossdock.money import Money
from crossdock.partners.errors import PartnerRejected
from crossdock.partners.payments import PaymentsClient
from tests.contracts.contracts import Contracts, amazon, ebay_fulfillment, stripe

AUTH = {"Authorization": "Bearer sk_test_crossdock"}


async def test_a_card_error_fits_the_contract_and_names_its_payment_method(
    checked_http: httpx.AsyncClient, raw_http: httpx.AsyncClient
) -> None:
    payments = PaymentsClient("http://sandbox/stripe", "sk_test_crossdock", http=checked_http)
    with pytest.raises(PartnerRejected) as declined:
        await payments.authorize(
            Money(amount=5000, currency="EUR"), "pm_card_chargeDeclined", "order-1", "e1:auth"
        )
    assert declined.value.code == "card_declined"

    again = await raw_http.post(
        "/stripe/v1/payment_intents",
        data={
            "amount": "100",
            "currency": "eur",
            "payment_method": "pm_card_chargeDeclined",
            "confirm": "true",
        },
        headers=AUTH,
    )
    error = again.json()["error"]
    assert error["payment_method"]["id"] == "pm_card_chargeDeclined"
    assert error["payment_method"]["object"] == "payment_method"


async def test_an_unknown_stripe_parameter_is_parameter_unknown(
    raw_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    response = await raw_http.post(
        "/stripe/v1/payment_intents",
        data={"amount": "100", "currency": "eur", "colour": "blue"},
        headers=AUTH,
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("parameter_unknown", "colour")
    assert contracts.check_object(stripe(), "#/components/schemas/error", response.json(), "") == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/stripe/v1/nonsense"), ("DELETE", "/stripe/v1/payment_intents/pi_1")],
)
async def test_an_unknown_stripe_route_answers_stripes_error(
    raw_http: httpx.AsyncClient, contracts: Contracts, method: str, path: str
) -> None:
    response = await raw_http.request(method, path, headers=AUTH)

    assert response.status_code == 404
    assert "Unrecognized request URL" in response.json()["error"]["message"]
    assert contracts.check_object(stripe(), "#/components/schemas/error", response.json(), "") == []


async def test_unknown_marketplace_routes_answer_their_error_lists(
    raw_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    on_amazon = await raw_http.get("/amazon/orders/v0/nonsense/x/y")
    on_ebay = await raw_http.get("/ebay/sell/fulfillment/v1/nonsense")
    on_post_order = await raw_http.get("/ebay/post-order/v2/nonsense")

    assert (on_amazon.status_code, on_ebay.status_code, on_post_order.status_code) == (404,) * 3
    assert (
        contracts.check_object(
            amazon("ordersV0.json"), "#/definitions/ErrorList", on_amazon.json()["errors"], "amazon"
        )
        == []
    )
    fulfillment = ebay_fulfillment()
    assert (
        contracts.check_object(
            fulfillment, "#/components/schemas/Error", on_ebay.json()["errors"][0], "ebay"
        )
        == []
    )
    assert on_post_order.json()["errorMessage"]["error"][0]["errorId"] == 2002


@pytest.mark.parametrize(
    "path",
    [
        "/easypost/v2/nonsense",
        "/customs/v1/nonsense",
        "/warehouse/v1/nonsense",
        "/suppliers/v1/nonsense",
        "/mail/v3/nonsense",
    ],
)
async def test_no_partner_answers_fastapis_detail(raw_http: httpx.AsyncClient, path: str) -> None:
    response = await raw_http.get(path)

    assert response.status_code == 404
    assert "detail" not in response.json()
