"""The carrier adapter against the sandbox: labels, refunds, webhook events, errors."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.carrier import CarrierActivities
from crossdock.models.carrier_steps import CarrierClaim, FileClaimInput
from crossdock.models.order import Address, LineItem
from crossdock.models.screening import AddressVerdict, VerifyAddressInput
from crossdock.models.shipment import (
    ClaimKind,
    Label,
    LabelRequest,
    ShipmentException,
    ShipmentStatus,
    shipment_exception,
)
from crossdock.money import Money
from crossdock.partners.carrier import (
    AddressVerification,
    CarrierClient,
    Claim,
    NotATrackerEvent,
    Rate,
    cheapest_rate,
    grams_to_ounces,
    parse_tracker_event,
    read_easypost_error,
    shipment_body,
)
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable, RateLimited
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.easypost.carrier import Carrier
from crossdock.sandbox.easypost.routes import build_router
from crossdock.sandbox.faults import FaultProfile

_NO_NETWORK = httpx.MockTransport(lambda request: httpx.Response(503))
WAREHOUSE = Address(name="Warehouse", line1="Am Sandtorkai 1", city="Hamburg", country="DE")
BUYER = Address(name="Ann Buyer", line1="1 Rue de Rivoli", city="Paris", country="FR")
MUG = LineItem(
    sku="MUG-1",
    title="Stoneware mug",
    quantity=2,
    unit_price=Money(amount=1800, currency="EUR"),
    hs_code="6912.00",
    origin_country="DE",
    weight_grams=420,
)


def label_request(**overrides: Any) -> LabelRequest:
    fields: dict[str, Any] = {
        "reference": "order-storefront-SF1",
        "to_address": BUYER,
        "from_address": WAREHOUSE,
        "items": [MUG],
        "weight_grams": 900,
        "currency": "EUR",
    }
    return LabelRequest(**{**fields, **overrides})


@pytest.fixture
def app() -> FastAPI:
    """The carrier partner alone (the fault test below uses the whole sandbox app)."""
    ctx = SandboxContext(config=SandboxConfig(), http=httpx.AsyncClient(transport=_NO_NETWORK))
    app = FastAPI()
    app.state.sandbox = ctx
    app.include_router(build_router(Carrier(ctx)))
    return app


@pytest.fixture
async def carrier(app: FastAPI) -> AsyncIterator[CarrierClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield CarrierClient("http://sandbox/easypost", "EZTK_crossdock", http=http)


def labels(app: FastAPI, kind: str = "label") -> list[Any]:
    return list(app.state.sandbox.ledger.entries(partner="easypost", kind=kind))


def test_grams_become_ounces_rounded_up_to_a_tenth() -> None:
    assert grams_to_ounces(1000) == 35.3  # 35.27 oz
    assert grams_to_ounces(28) == 1.0  # 0.988 oz: never under-declared
    assert grams_to_ounces(1) == 0.1


def test_international_body_declares_each_line_for_customs() -> None:
    body = shipment_body(label_request())["shipment"]

    assert body["reference"] == "order-storefront-SF1"
    assert body["to_address"]["street1"] == "1 Rue de Rivoli"
    assert body["parcel"] == {"weight": 31.8}
    [item] = body["customs_info"]["customs_items"]
    assert item["value"] == "36.00"  # the line: 2 x 18.00 EUR
    assert item["weight"] == grams_to_ounces(840)
    assert (item["hs_tariff_number"], item["origin_country"], item["currency"]) == (
        "691200",
        "DE",
        "EUR",
    )
    assert body["customs_info"]["customs_signer"] == "Warehouse"


def test_domestic_body_has_no_customs_info() -> None:
    domestic = label_request(to_address=BUYER.model_copy(update={"country": "DE"}))

    assert "customs_info" not in shipment_body(domestic)["shipment"]


def test_label_request_refuses_items_in_another_currency() -> None:
    with pytest.raises(ValueError, match=r"items\[0\].unit_price is in EUR"):
        label_request(currency="USD")


def test_cheapest_rate_compares_within_one_currency() -> None:
    def rate(rate_id: str, price: str, currency: str) -> Rate:
        return Rate(id=rate_id, carrier="X", service="S", rate=price, currency=currency)

    rates = [rate("a", "1500", "JPY"), rate("b", "20.00", "EUR"), rate("c", "12.50", "EUR")]

    assert cheapest_rate(rates, "EUR").id == "c"
    assert cheapest_rate(rates, "USD").id == "a"  # no USD rate: the first rate's currency
    with pytest.raises(PartnerRejected):
        cheapest_rate([], "EUR")


async def test_buy_label_buys_the_cheapest_rate(carrier: CarrierClient, app: FastAPI) -> None:
    label = await carrier.buy_label(label_request(), "order-1:label")

    shipment = await carrier.retrieve_shipment(label.shipment_id)
    cheapest = min(shipment.rates, key=lambda r: r.money.amount)
    assert isinstance(label, Label)
    assert label.rate == cheapest.money
    assert (label.carrier, label.service) == (cheapest.carrier, cheapest.service)
    assert label.tracking_code == shipment.tracking_code
    assert shipment.status is ShipmentStatus.PRE_TRANSIT
    assert shipment.reference == "order-storefront-SF1"
    [entry] = labels(app)
    assert entry.idempotency_key == "order-1:label:buy"
    assert (entry.amount, entry.currency) == (label.rate.amount, label.rate.currency)


async def test_retried_buy_label_replays_the_same_label(
    carrier: CarrierClient, app: FastAPI
) -> None:
    first = await carrier.buy_label(label_request(), "order-1:label")
    again = await carrier.buy_label(label_request(), "order-1:label")

    assert again == first
    assert len(labels(app)) == 1


async def test_lost_buy_answer_is_recovered_from_the_existing_label(app: FastAPI) -> None:
    """A carrier without idempotency keys on buy: the retry finds postage already bought."""
    sandbox = httpx.ASGITransport(app=app)
    lost = {"done": False}

    async def lossy(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/buy"):
            del request.headers["Idempotency-Key"]
            response = await sandbox.handle_async_request(request)
            if not lost["done"]:
                lost["done"] = True
                return httpx.Response(504, json={"error": {"code": "TIMEOUT", "message": "lost"}})
            return response
        return await sandbox.handle_async_request(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(lossy)) as http:
        carrier = CarrierClient("http://sandbox/easypost", "EZTK", http=http)
        with pytest.raises(PartnerUnavailable):
            await carrier.buy_label(label_request(), "order-1:label")
        label = await carrier.buy_label(label_request(), "order-1:label")

    [entry] = labels(app)
    assert entry.reference == label.shipment_id
    assert entry.details["tracking_code"] == label.tracking_code


async def test_refund_label_twice_counts_as_done(carrier: CarrierClient, app: FastAPI) -> None:
    label = await carrier.buy_label(label_request(), "order-1:label")

    first = await carrier.refund_label(label.shipment_id, "order-1:void")
    again = await carrier.refund_label(label.shipment_id, "order-1:void-again")

    assert first.refund_status == again.refund_status == "submitted"
    assert len(labels(app, "label_refund")) == 1


async def test_refusals_carry_easyposts_code(carrier: CarrierClient) -> None:
    with pytest.raises(PartnerRejected) as missing:
        await carrier.retrieve_shipment("shp_nope")

    assert missing.value.code == "NOT_FOUND"
    assert missing.value.status == 404
    assert not missing.value.retryable


def test_field_errors_are_spelled_out_in_the_message() -> None:
    body = {
        "error": {
            "code": "SHIPMENT.INVALID_PARAMS",
            "message": "Unable to create shipment, one or more parameters were invalid.",
            "errors": [
                {"field": "to_address.street1", "message": "Required and missing."},
                {"from_address": "Required and missing."},
            ],
        }
    }

    code, message = read_easypost_error(body)

    assert code == "SHIPMENT.INVALID_PARAMS"
    assert message is not None
    assert "to_address.street1: Required and missing." in message
    assert "from_address: Required and missing." in message


async def test_rate_limit_and_outage_are_retryable() -> None:
    limited = create_app(
        SandboxConfig(faults=FaultProfile.everywhere(rate_limit_per_second=0.2, burst=1))
    )
    down = create_app(SandboxConfig(faults=FaultProfile.everywhere(error_rate=1.0)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited)) as http:
        carrier = CarrierClient("http://sandbox/easypost", "EZTK", http=http)
        with pytest.raises(PartnerRejected):  # spends the only token: 404, not 429
            await carrier.retrieve_tracker("trk_1")
        with pytest.raises(RateLimited) as rate_limited:
            await carrier.retrieve_tracker("trk_1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=down)) as http:
        carrier = CarrierClient("http://sandbox/easypost", "EZTK", http=http)
        with pytest.raises(PartnerUnavailable) as unavailable:
            await carrier.buy_label(label_request(), "order-1:label")

    assert rate_limited.value.retry_after is not None and rate_limited.value.retry_after >= 1
    assert unavailable.value.status == 503


async def test_sandbox_events_parse_into_tracker_events() -> None:
    ctx = SandboxContext(
        config=SandboxConfig(tracking_step_seconds=60),
        http=httpx.AsyncClient(transport=_NO_NETWORK),
    )
    simulator = Carrier(ctx)
    app = FastAPI()
    app.include_router(build_router(simulator))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        carrier = CarrierClient("http://sandbox/easypost", "EZTK", http=http)
        label = await carrier.buy_label(label_request(), "order-1:label")
        [event] = simulator.advance(datetime.now(UTC) + timedelta(minutes=1))
        tracker = await carrier.retrieve_tracker(label.tracker_id)

    parsed = parse_tracker_event(event)

    assert parsed.event_id == event["id"]
    assert parsed.description == "tracker.updated"
    assert (parsed.tracker_id, parsed.shipment_id) == (label.tracker_id, label.shipment_id)
    assert parsed.tracking_code == label.tracking_code
    assert parsed.status is ShipmentStatus.IN_TRANSIT
    assert parsed.occurred_at is not None and parsed.occurred_at.tzinfo is not None
    assert tracker.status is ShipmentStatus.IN_TRANSIT
    assert [d.status for d in tracker.tracking_details] == [
        ShipmentStatus.PRE_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
    ]


def tracker_event(**tracker: Any) -> dict[str, Any]:
    result = {
        "object": "Tracker",
        "id": "trk_1",
        "tracking_code": "EZ1",
        "status": "in_transit",
        "shipment_id": "shp_1",
        "tracking_details": [
            {"status": "in_transit", "message": "Arrived", "datetime": "2026-11-02T10:00:00Z"}
        ],
        **tracker,
    }
    return {"object": "Event", "id": "evt_1", "description": "tracker.updated", "result": result}


def test_unknown_carrier_statuses_normalise_to_unknown() -> None:
    event = parse_tracker_event(tracker_event(status="held_at_customs_by_aliens"))

    assert event.status is ShipmentStatus.UNKNOWN
    assert event.occurred_at == datetime(2026, 11, 2, 10, tzinfo=UTC)


def test_events_about_other_objects_are_recognised() -> None:
    refund_event = {
        "object": "Event",
        "id": "evt_2",
        "result": {"object": "Refund", "id": "rfnd_1"},
    }

    with pytest.raises(NotATrackerEvent, match="Refund"):
        parse_tracker_event(refund_event)
    with pytest.raises(ValueError, match="object must be 'Event'"):
        parse_tracker_event({"object": "Tracker", "id": "trk_1"})
    with pytest.raises(ValueError, match="tracking_code"):
        parse_tracker_event(tracker_event(tracking_code=None))


def test_final_statuses() -> None:
    assert ShipmentStatus.DELIVERED.is_final
    assert ShipmentStatus.RETURN_TO_SENDER.is_final
    assert not ShipmentStatus.OUT_FOR_DELIVERY.is_final
    assert ShipmentStatus.from_carrier(" Delivered ") is ShipmentStatus.DELIVERED


# --- address verification -------------------------------------------------------------

MANCHESTER = Address(
    name="Demo buyer 00002",
    line1="1 demo street",
    city="Manchester",
    postal_code="m11ae",
    country="GB",
    phone="+44 161 000 0000",
)


async def test_verify_address_returns_the_carriers_corrected_address(
    carrier: CarrierClient,
) -> None:
    found = await carrier.verify_address(MANCHESTER)

    assert found == AddressVerification(
        deliverable=True,
        errors=[],
        normalised=Address(
            name="DEMO BUYER 00002",
            line1="1 DEMO STREET",
            city="MANCHESTER",
            postal_code="M1 1AE",
            country="GB",
            phone="441610000000",
        ),
    )


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"line1": "9 Undeliverable Street"}, "address: Address not found (E.ADDRESS.NOT_FOUND)"),
        (
            {"postal_code": ""},
            "postal_code: Postal code is required for addresses in GB (E.ZIP.MISSING)",
        ),
        (
            {"postal_code": "12345"},
            "postal_code: '12345' is not a postal code of GB (E.ZIP.INVALID)",
        ),
    ],
)
async def test_undeliverable_address_is_an_answer_naming_our_field(
    carrier: CarrierClient, changes: dict[str, str], error: str
) -> None:
    found = await carrier.verify_address(MANCHESTER.model_copy(update=changes))

    assert found == AddressVerification(deliverable=False, errors=[error], normalised=None)


def easypost_answer(body: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=body)

    return httpx.MockTransport(respond)


async def test_verify_address_reads_easyposts_own_answer_with_corrections() -> None:
    # EasyPost's answer for a deliverable address it corrected (from its SDK's recordings).
    verified = {
        "id": "adr_565f53beb6a411ecbd42ac1f6b0a0d1e",
        "object": "Address",
        "name": None,
        "company": "EASYPOST",
        "street1": "417 MONTGOMERY ST FL 5",
        "street2": "",
        "city": "SAN FRANCISCO",
        "state": "CA",
        "zip": "94104-1129",
        "country": "US",
        "phone": "4151234567",
        "verifications": {
            "zip4": {"success": True, "errors": [], "details": None},
            "delivery": {
                "success": True,
                "errors": [
                    {
                        "code": "E.SECONDARY_INFORMATION.INVALID",
                        "field": "street2",
                        "message": "Invalid secondary information(Apt/Suite#)",
                        "suggestion": None,
                    }
                ],
                "details": {"latitude": 37.79342, "longitude": -122.40288},
            },
        },
    }
    sent = Address(
        name="Shipping desk",
        line1="417 montgomery street",
        line2="FL 5",
        city="San Francisco",
        region="CA",
        postal_code="94104",
        country="US",
    )
    seen: list[httpx.Request] = []

    async with httpx.AsyncClient(transport=easypost_answer(verified, seen)) as http:
        found = await CarrierClient("https://api.easypost.test", "EZTK", http=http).verify_address(
            sent
        )

    assert found.deliverable
    assert found.errors == [
        "line2: Invalid secondary information(Apt/Suite#) (E.SECONDARY_INFORMATION.INVALID)"
    ]
    assert found.normalised is not None
    assert (found.normalised.name, found.normalised.line1, found.normalised.postal_code) == (
        "EASYPOST",
        "417 MONTGOMERY ST FL 5",
        "94104-1129",
    )
    [request] = seen
    assert (request.method, request.url.path) == ("POST", "/v2/addresses")
    assert "Idempotency-Key" not in request.headers  # read-only: no key
    body = json.loads(request.content)
    assert body["verify"] is True
    assert (body["address"]["street1"], body["address"]["zip"]) == (
        "417 montgomery street",
        "94104",
    )


async def test_an_answer_without_delivery_verification_is_a_partner_fault() -> None:
    unverified = {"id": "adr_1", "object": "Address", "street1": "x", "verifications": {}}

    async with httpx.AsyncClient(transport=easypost_answer(unverified, [])) as http:
        with pytest.raises(PartnerUnavailable, match="without a delivery verification"):
            await CarrierClient("https://api.easypost.test", "EZTK", http=http).verify_address(
                MANCHESTER
            )


async def test_verify_address_activity_returns_the_verdict(carrier: CarrierClient) -> None:
    activities = CarrierActivities(carrier)
    env = ActivityEnvironment()

    ok = await env.run(activities.verify_address, VerifyAddressInput(address=MANCHESTER))
    bad = await env.run(
        activities.verify_address,
        VerifyAddressInput(address=MANCHESTER.model_copy(update={"postal_code": ""})),
    )

    assert ok.deliverable and ok.normalised is not None
    assert ok.normalised.postal_code == "M1 1AE"
    assert bad == AddressVerdict(
        deliverable=False,
        errors=["postal_code: Postal code is required for addresses in GB (E.ZIP.MISSING)"],
    )


async def test_verify_address_activity_retries_an_outage() -> None:
    down = create_app(SandboxConfig(faults=FaultProfile.everywhere(error_rate=1.0)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=down)) as http:
        activities = CarrierActivities(CarrierClient("http://sandbox/easypost", "EZTK", http=http))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(
                activities.verify_address, VerifyAddressInput(address=MANCHESTER)
            )

    assert (failure.value.type, failure.value.non_retryable) == ("PartnerUnavailable", False)


# --- claims -----------------------------------------------------------------------------

EUR_36 = Money(amount=3600, currency="EUR")
USD_36 = Money(amount=3600, currency="USD")
# EasyPost insures, and pays claims, in US dollars: the claimable parcel holds dollar goods.
USD_MUG = MUG.model_copy(update={"unit_price": Money(amount=2500, currency="USD")})


def dollar_label() -> LabelRequest:
    return label_request(items=[USD_MUG], currency="USD")


@pytest.fixture
async def insuring(app: FastAPI) -> AsyncIterator[CarrierClient]:
    """A carrier client that insures its labels at purchase (`carrier_insure_labels`)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield CarrierClient(
            "http://sandbox/easypost", "EZTK_crossdock", http=http, insure_labels=True
        )


async def test_labels_are_insured_at_purchase_for_their_dollar_contents(
    insuring: CarrierClient, app: FastAPI
) -> None:
    await insuring.buy_label(dollar_label(), "order-1:label")
    await insuring.buy_label(label_request(), "order-2:label")  # euros: EasyPost cannot

    [insured] = labels(app, "insurance")
    assert (insured.amount, insured.currency) == (5000, "USD")  # 2 x 25.00


async def test_an_uninsured_label_cannot_be_claimed(carrier: CarrierClient) -> None:
    label = await carrier.buy_label(dollar_label(), "order-1:label")

    with pytest.raises(PartnerRejected) as refused:
        await carrier.file_claim(label.tracking_code, USD_36, ClaimKind.LOSS, "Lost.", "k1")

    assert refused.value.status == 404
    assert "No eligible insurance found" in refused.value.message
    assert not refused.value.retryable


async def test_a_claim_in_another_currency_is_refused_before_sending() -> None:
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=easypost_answer({}, seen)) as http:
        with pytest.raises(PartnerRejected) as refused:
            await CarrierClient("https://api.easypost.test", "EZTK", http=http).file_claim(
                "EZ1", EUR_36, ClaimKind.LOSS, "Lost.", "k1"
            )

    assert (refused.value.code, seen) == ("CLAIM.CURRENCY", [])


async def test_file_claim_returns_the_claim_once_per_key(
    insuring: CarrierClient, app: FastAPI
) -> None:
    carrier = insuring
    label = await carrier.buy_label(dollar_label(), "order-1:label")

    claim = await carrier.file_claim(
        label.tracking_code, USD_36, ClaimKind.LOSS, "No scan for 10 days.", "order-1:claim"
    )
    again = await carrier.file_claim(
        label.tracking_code, USD_36, ClaimKind.LOSS, "No scan for 10 days.", "order-1:claim"
    )

    assert claim.id.startswith("clm_")
    assert (claim.type, claim.status) == (ClaimKind.LOSS, "submitted")
    assert claim.requested == USD_36
    assert claim.approved is None
    assert (claim.tracking_code, claim.shipment_id) == (label.tracking_code, label.shipment_id)
    assert again == claim
    assert await carrier.retrieve_claim(claim.id) == claim
    [entry] = labels(app, "claim")
    assert (entry.idempotency_key, entry.amount, entry.currency) == ("order-1:claim", 3600, "USD")


async def test_claim_refusals_carry_the_carriers_code(insuring: CarrierClient) -> None:
    carrier = insuring
    label = await carrier.buy_label(dollar_label(), "order-1:label")
    await carrier.file_claim(label.tracking_code, USD_36, ClaimKind.DAMAGE, "Broken.", "k1")

    with pytest.raises(PartnerRejected) as twice:
        await carrier.file_claim(label.tracking_code, USD_36, ClaimKind.LOSS, "Lost.", "k2")
    with pytest.raises(PartnerRejected) as unknown:
        await carrier.file_claim("EZ404", USD_36, ClaimKind.LOSS, "Lost.", "k3")

    assert twice.value.code == "CLAIM.ALREADY_EXISTS"
    assert not twice.value.retryable
    assert unknown.value.code == "CLAIM.INVALID_PARAMS"
    assert "tracking_code: Unknown tracking code." in unknown.value.message


async def test_file_claim_speaks_easyposts_claims_api() -> None:
    # EasyPost's answer to a claim (from its SDK's recordings): US dollars, no currency.
    answer = {
        "id": "clm_097dd2d0c5f944f7b51924422f6341b7",
        "object": "Claim",
        "type": "damage",
        "status": "submitted",
        "status_detail": "Claim was created.",
        "tracking_code": "9400100110368063698216",
        "shipment_id": "shp_100e485b59294ece94b66f0a6427f032",
        "requested_amount": "100.00",
        "approved_amount": None,
        "insurance_amount": "100.00",
        "history": [{"status": "submitted", "status_detail": "Claim was created."}],
        "mode": "test",
    }
    seen: list[httpx.Request] = []
    money = Money(amount=10000, currency="USD")

    async with httpx.AsyncClient(transport=easypost_answer(answer, seen)) as http:
        claim = await CarrierClient("https://api.easypost.test", "EZTK", http=http).file_claim(
            "9400100110368063698216", money, ClaimKind.DAMAGE, "Arrived crushed.", "order-1:claim"
        )

    [request] = seen
    assert (request.method, request.url.path) == ("POST", "/v2/claims")
    assert request.headers["Idempotency-Key"] == "order-1:claim"
    assert request.headers["Authorization"].startswith("Basic ")
    sent = json.loads(request.content)
    evidence = sent.pop("email_evidence_attachments")
    assert sent == {
        "type": "damage",
        "tracking_code": "9400100110368063698216",
        "amount": "100.00",
        "description": "Arrived crushed.",
        "invoice_attachments": evidence,
        "supporting_documentation_attachments": evidence,
    }
    [pdf] = evidence
    assert base64.b64decode(pdf.removeprefix("data:application/pdf;base64,")).startswith(b"%PDF-")
    assert claim == Claim.model_validate(answer)
    assert claim.requested == money


async def test_file_carrier_claim_activity(insuring: CarrierClient) -> None:
    carrier = insuring
    label = await carrier.buy_label(dollar_label(), "order-1:label")
    activities = CarrierActivities(carrier)
    env = ActivityEnvironment()

    def claim_input(key: str) -> FileClaimInput:
        return FileClaimInput(
            tracking_code=label.tracking_code,
            amount=USD_36,
            kind=ClaimKind.LOSS,
            description="Lost after the hub.",
            idempotency_key=key,
        )

    filed = await env.run(activities.file_carrier_claim, claim_input("order-1:claim"))
    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.file_carrier_claim, claim_input("order-1:claim-again"))

    assert isinstance(filed, CarrierClaim)
    assert filed.claim_id.startswith("clm_")
    assert (filed.kind, filed.status, filed.requested) == (ClaimKind.LOSS, "submitted", USD_36)
    assert filed.shipment_id == label.shipment_id
    assert filed.detail == "Claim was created."
    assert (refused.value.type, refused.value.non_retryable) == ("CLAIM.ALREADY_EXISTS", True)


def test_a_claim_must_ask_for_something() -> None:
    with pytest.raises(ValidationError, match="amount must be more than zero"):
        FileClaimInput(
            tracking_code="EZ1",
            amount=Money(amount=0, currency="EUR"),
            kind=ClaimKind.LOSS,
            description="Lost.",
            idempotency_key="k",
        )


# --- exceptions in tracking updates -----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        ("in_transit", "departed_facility", None),
        ("delivered", "arrived_at_destination", None),
        ("in_transit", "weather_delay", ShipmentException.DELAYED),
        ("in_transit", "delayed", ShipmentException.DELAYED),
        ("in_transit", "held", ShipmentException.CUSTOMS_HOLD),
        ("return_to_sender", "refused", ShipmentException.RETURN_TO_SENDER),
        ("return_to_sender", None, ShipmentException.RETURN_TO_SENDER),
        ("failure", "address_correction", ShipmentException.ADDRESS_PROBLEM),
        ("failure", "lost", ShipmentException.LOST),
        ("failure", "damaged", ShipmentException.DAMAGED),
        ("failure", "delivery_exception", ShipmentException.DELIVERY_FAILED),
        ("error", None, ShipmentException.DELIVERY_FAILED),
    ],
)
def test_exceptions_are_read_from_status_and_detail(
    status: str, detail: str | None, expected: ShipmentException | None
) -> None:
    assert shipment_exception(ShipmentStatus(status), detail) is expected


@pytest.mark.parametrize(
    ("scenario", "exception"),
    [
        ("address_problem", ShipmentException.ADDRESS_PROBLEM),
        ("return_to_sender", ShipmentException.RETURN_TO_SENDER),
        ("customs_hold", ShipmentException.CUSTOMS_HOLD),
        ("delayed", ShipmentException.DELAYED),
    ],
)
async def test_sandbox_exception_events_parse_into_exceptions(
    scenario: str, exception: ShipmentException
) -> None:
    ctx = SandboxContext(
        config=SandboxConfig(tracking_step_seconds=60, tracker_exception_rates={scenario: 1.0}),
        http=httpx.AsyncClient(transport=_NO_NETWORK),
    )
    simulator = Carrier(ctx)
    app = FastAPI()
    app.include_router(build_router(simulator))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        carrier = CarrierClient("http://sandbox/easypost", "EZTK", http=http)
        await carrier.buy_label(label_request(), "order-1:label")
    start = datetime.now(UTC)
    events = [e for m in range(1, 30) for e in simulator.advance(start + timedelta(minutes=m))]

    found = [parse_tracker_event(event).exception for event in events]

    assert exception in found
    assert found[0] is None  # departed the origin facility: normal progress
