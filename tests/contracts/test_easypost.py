"""EasyPost: what our carrier client sends and the sandbox answers, against the fields
of EasyPost's own recorded exchanges (it publishes no OpenAPI model)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Address, LineItem
from crossdock.models.shipment import ClaimKind, LabelRequest
from crossdock.money import Money
from crossdock.partners.carrier import CarrierClient
from tests.contracts.easypost import RecordedTransport, recorded

ORIGIN = Address(
    name="Warehouse",
    line1="388 Townsend St",
    city="San Francisco",
    region="CA",
    postal_code="94107",
    country="US",
)
BUYER = Address(
    name="Ann Buyer", line1="1 Rue de Rivoli", city="Paris", postal_code="75001", country="FR"
)
MUG = LineItem(
    sku="MUG-1",
    title="Stoneware mug",
    quantity=2,
    unit_price=Money(amount=2500, currency="USD"),
    hs_code="6912.00",
    origin_country="US",
    weight_grams=420,
)


@pytest.fixture
async def checked(sandbox: FastAPI) -> AsyncIterator[RecordedTransport]:
    recorded()  # skips, saying why, without the contracts
    transport = RecordedTransport(httpx.ASGITransport(app=sandbox))
    yield transport
    assert transport.violations == [], "\n".join(transport.violations)


async def test_labels_addresses_claims_and_trackers_fit_the_recordings(
    checked: RecordedTransport,
) -> None:
    async with httpx.AsyncClient(transport=checked) as http:
        carrier = CarrierClient(
            "http://sandbox/easypost", "EZTK_test", http=http, insure_labels=True
        )
        request = LabelRequest(
            reference="order-1",
            to_address=BUYER,
            from_address=ORIGIN,
            items=[MUG],
            weight_grams=900,
            currency="USD",
        )
        label = await carrier.buy_label(request, "order-1:label")
        shipment = await carrier.retrieve_shipment(label.shipment_id)
        await carrier.verify_address(ORIGIN)
        claim = await carrier.file_claim(
            label.tracking_code,
            Money(amount=3600, currency="USD"),
            ClaimKind.DAMAGE,
            "Arrived crushed.",
            "order-1:claim",
        )
        await carrier.retrieve_claim(claim.id)
        assert shipment.tracker is not None
        await carrier.retrieve_tracker(shipment.tracker.id)

    assert {"POST /easypost/v2/shipments", "POST /easypost/v2/claims"} <= checked.seen
