"""The EasyPost-shaped carrier sandbox: shipments, labels, refunds, trackers, webhooks."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.money import Money
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.easypost.carrier import Carrier
from crossdock.sandbox.easypost.routes import build_router

AUTH = {"Authorization": "Bearer EZTK_crossdock"}
STEP = 3600.0

PARIS = {"name": "Ann Buyer", "street1": "1 Rue de Rivoli", "city": "Paris", "country": "FR"}
HAMBURG = {"name": "Warehouse", "street1": "Am Sandtorkai 1", "city": "Hamburg", "country": "DE"}
BERLIN = {"name": "Bob Buyer", "street1": "Unter den Linden 1", "city": "Berlin", "country": "DE"}
MUGS: dict[str, Any] = {
    "description": "Stoneware mug",
    "quantity": 2,
    "value": "36.00",
    "currency": "EUR",
    "weight": 29.7,
    "hs_tariff_number": "691200",
    "origin_country": "DE",
}
CUSTOMS: dict[str, Any] = {
    "contents_type": "merchandise",
    "customs_certify": True,
    "customs_signer": "Warehouse",
    "eel_pfc": "NOEEI 30.37(a)",
    "customs_items": [MUGS],
}


def shipment(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": "order-storefront-SF1",
        "to_address": PARIS,
        "from_address": HAMBURG,
        "parcel": {"weight": 30.0},
        "customs_info": CUSTOMS,
    }
    body.update(overrides)
    return {"shipment": {k: v for k, v in body.items() if v is not None}}


@dataclass
class Receiver:
    """A webhook endpoint under test control: it fails the first `failures` calls."""

    failures: int = 0
    refuse: Callable[[dict[str, Any]], bool] = lambda event: False
    received: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            if self.attempts % 2:
                raise httpx.ConnectError("receiver down", request=request)
            return httpx.Response(500)
        event: dict[str, Any] = json.loads(request.content)
        if self.refuse(event):
            return httpx.Response(503)
        self.received.append(event)
        return httpx.Response(200)


@dataclass
class Harness:
    carrier: Carrier
    client: httpx.AsyncClient
    receiver: Receiver

    @property
    def ctx(self) -> SandboxContext:
        return self.carrier.ctx

    async def create(self, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post("/v2/shipments", json=shipment(**overrides), headers=AUTH)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def buy(self, created: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
        rate = {"id": created["rates"][0]["id"]}
        return await self.client.post(
            f"/v2/shipments/{created['id']}/buy", json={"rate": rate}, headers=headers
        )

    async def bought(self, **overrides: Any) -> dict[str, Any]:
        response = await self.buy(await self.create(**overrides))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def easypost() -> AsyncIterator[Harness]:
    receiver = Receiver()
    config = SandboxConfig(
        tracking_step_seconds=STEP, carrier_webhook_url="http://intake/webhooks/easypost", seed=7
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    carrier = Carrier(SandboxContext(config=config, http=http), retry_initial=0.001)
    app = FastAPI()
    app.include_router(build_router(carrier))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/easypost") as client:
        yield Harness(carrier, client, receiver)
    await http.aclose()


async def test_international_shipment_is_rated_with_customs_echoed(easypost: Harness) -> None:
    created = await easypost.create()

    assert created["object"] == "Shipment"
    assert created["id"].startswith("shp_")
    assert (created["status"], created["tracking_code"], created["postage_label"]) == (
        "unknown",
        None,
        None,
    )
    assert created["reference"] == "order-storefront-SF1"
    assert created["customs_info"]["id"].startswith("cstinfo_")
    [item] = created["customs_info"]["customs_items"]
    assert item["id"].startswith("cstitem_")
    assert (item["hs_tariff_number"], item["value"]) == ("691200", "36.00")
    assert len(created["rates"]) == 3
    for rate in created["rates"]:
        assert rate["object"] == "Rate"
        assert rate["shipment_id"] == created["id"]
        assert rate["currency"] == "EUR"  # billed in the shipper's currency
        Money.parse(rate["rate"], rate["currency"])  # an exact decimal string


async def test_yen_rates_have_no_minor_unit(easypost: Harness) -> None:
    tokyo = {"name": "Shop", "street1": "1-1 Marunouchi", "city": "Tokyo", "country": "JP"}

    created = await easypost.create(from_address=tokyo)

    assert {rate["currency"] for rate in created["rates"]} == {"JPY"}
    assert all(rate["rate"].isdigit() for rate in created["rates"])


async def test_heavier_parcels_cost_more(easypost: Harness) -> None:
    light = await easypost.create(parcel={"weight": 10})
    heavy = await easypost.create(parcel={"weight": 80})

    def cheapest(created: dict[str, Any]) -> int:
        return min(Money.parse(r["rate"], r["currency"]).amount for r in created["rates"])

    assert cheapest(heavy) > cheapest(light)


async def test_international_without_customs_info_is_refused(easypost: Harness) -> None:
    response = await easypost.client.post(
        "/v2/shipments", json=shipment(customs_info=None), headers=AUTH
    )

    error = response.json()["error"]
    assert response.status_code == 422
    assert error["code"] == "SHIPMENT.CUSTOMS_INFO.REQUIRED"
    assert "DE" in error["message"] and "FR" in error["message"]


async def test_domestic_shipment_needs_no_customs_info(easypost: Harness) -> None:
    created = await easypost.create(to_address=BERLIN, customs_info=None)

    assert created["customs_info"] is None
    assert {rate["carrier"] for rate in created["rates"]} >= {"USPS", "UPS"}


@pytest.mark.parametrize(
    ("to_address", "field_name"),
    [
        ({**PARIS, "street1": ""}, "to_address.street1"),
        ({**PARIS, "country": "France"}, "to_address.country"),
        ({k: v for k, v in PARIS.items() if k != "country"}, "to_address.country"),
    ],
)
async def test_invalid_destination_is_refused_naming_the_field(
    easypost: Harness, to_address: dict[str, str], field_name: str
) -> None:
    response = await easypost.client.post(
        "/v2/shipments", json=shipment(to_address=to_address), headers=AUTH
    )

    error = response.json()["error"]
    assert response.status_code == 422
    assert error["code"] == "SHIPMENT.INVALID_PARAMS"
    assert field_name in [e["field"] for e in error["errors"]]


async def test_customs_items_are_checked(easypost: Harness) -> None:
    item = {**MUGS, "hs_tariff_number": "69", "value": "lots"}
    customs = {**CUSTOMS, "customs_items": [item]}

    response = await easypost.client.post(
        "/v2/shipments", json=shipment(customs_info=customs), headers=AUTH
    )

    error = response.json()["error"]
    assert response.status_code == 422
    assert error["code"] == "CUSTOMS_INFO.PARAMETERS.INVALID"
    assert {e["field"] for e in error["errors"]} == {
        "customs_info.customs_items[0].hs_tariff_number",
        "customs_info.customs_items[0].value",
    }


async def test_missing_api_key_is_401_and_basic_auth_works(easypost: Harness) -> None:
    anonymous = await easypost.client.post("/v2/shipments", json=shipment())
    basic = base64.b64encode(b"EZTK_crossdock:").decode()
    with_basic = await easypost.client.post(
        "/v2/shipments", json=shipment(), headers={"Authorization": f"Basic {basic}"}
    )

    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "UNAUTHORIZED"
    assert with_basic.status_code == 201


async def test_buying_a_rate_gives_label_tracker_and_ledger_entry(easypost: Harness) -> None:
    created = await easypost.create()
    rate = created["rates"][0]

    response = await easypost.buy(created, key="order-1:label:buy")

    bought = response.json()
    assert bought["selected_rate"]["id"] == rate["id"]
    assert bought["postage_label"]["label_url"].startswith("https://")
    assert bought["tracking_code"] == bought["tracker"]["tracking_code"]
    tracker = bought["tracker"]
    assert (tracker["object"], tracker["status"], tracker["shipment_id"]) == (
        "Tracker",
        "pre_transit",
        created["id"],
    )
    assert tracker["tracking_details"][0]["tracking_location"]["city"] == "Hamburg"
    [label] = easypost.ctx.ledger.entries(partner="easypost", kind="label")
    price = Money.parse(rate["rate"], rate["currency"])
    assert (label.reference, label.amount, label.currency) == (
        created["id"],
        price.amount,
        price.currency,
    )
    assert label.idempotency_key == "order-1:label:buy"
    assert label.details["shipment_reference"] == "order-storefront-SF1"
    assert label.details["tracking_code"] == bought["tracking_code"]


async def test_buy_replay_and_rebuy(easypost: Harness) -> None:
    created = await easypost.create()
    first = await easypost.buy(created, key="k-buy")
    replay = await easypost.buy(created, key="k-buy")
    rebuy = await easypost.buy(created, key="k-other")
    other_rate = await easypost.client.post(
        f"/v2/shipments/{created['id']}/buy",
        json={"rate": {"id": created["rates"][1]["id"]}},
        headers={**AUTH, "Idempotency-Key": "k-buy"},
    )

    assert replay.json() == first.json()
    assert rebuy.status_code == 422
    assert rebuy.json()["error"]["code"] == "SHIPMENT.POSTAGE.EXISTS"
    assert other_rate.status_code == 400
    assert len(easypost.ctx.ledger.entries(partner="easypost", kind="label")) == 1


async def test_buying_a_rate_of_another_shipment_is_refused(easypost: Harness) -> None:
    mine, other = await easypost.create(), await easypost.create()

    response = await easypost.client.post(
        f"/v2/shipments/{mine['id']}/buy",
        json={"rate": {"id": other["rates"][0]["id"]}},
        headers=AUTH,
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "SHIPMENT.MISSING_RATE"
    assert easypost.ctx.ledger.entries(kind="label") == []


async def test_unknown_shipment_is_404(easypost: Harness) -> None:
    response = await easypost.client.get("/v2/shipments/shp_nope", headers=AUTH)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_unused_label_refund_and_its_limits(easypost: Harness) -> None:
    unbought = await easypost.create()
    bought = await easypost.bought()
    scanned = await easypost.bought()
    easypost.carrier.trackers[scanned["tracker"]["id"]].last_step_at -= timedelta(seconds=STEP)
    easypost.carrier.advance(datetime.now(UTC))

    def refund(shipment_id: str) -> Any:
        return easypost.client.post(f"/v2/shipments/{shipment_id}/refund", headers=AUTH)

    nothing = await refund(unbought["id"])
    voided = await refund(bought["id"])
    again = await refund(bought["id"])
    too_late = await refund(scanned["id"])

    assert nothing.json()["error"]["code"] == "SHIPMENT.POSTAGE.REQUIRED"
    assert voided.json()["refund_status"] == "submitted"
    assert again.json()["error"]["code"] == "SHIPMENT.REFUND.UNAVAILABLE"
    assert too_late.status_code == 422
    assert "in_transit" in too_late.json()["error"]["message"]
    [entry] = easypost.ctx.ledger.entries(partner="easypost", kind="label_refund")
    assert entry.reference == bought["id"]
    assert entry.amount == Money.parse(bought["selected_rate"]["rate"], "EUR").amount


async def test_trackers_advance_in_order_one_step_per_interval(easypost: Harness) -> None:
    bought = await easypost.bought()
    tracker_id = bought["tracker"]["id"]
    start = easypost.carrier.trackers[tracker_id].last_step_at

    early = easypost.carrier.advance(start + timedelta(seconds=STEP - 1))
    statuses = [
        event["result"]["status"]
        for hours in range(1, 7)
        for event in easypost.carrier.advance(start + timedelta(seconds=STEP * hours))
    ]

    assert early == []
    assert statuses == ["in_transit", "out_for_delivery", "delivered"]
    tracker = (await easypost.client.get(f"/v2/trackers/{tracker_id}", headers=AUTH)).json()
    assert [d["status"] for d in tracker["tracking_details"]] == [
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert tracker["tracking_details"][-1]["tracking_location"]["city"] == "Paris"
    shipment_now = await easypost.client.get(f"/v2/shipments/{bought['id']}", headers=AUTH)
    assert shipment_now.json()["status"] == "delivered"


async def test_events_are_snapshots_in_easyposts_shape(easypost: Harness) -> None:
    bought = await easypost.bought()
    start = easypost.carrier.trackers[bought["tracker"]["id"]].last_step_at

    [first] = easypost.carrier.advance(start + timedelta(seconds=STEP))
    first_copy = copy.deepcopy(first)
    easypost.carrier.advance(start + timedelta(seconds=2 * STEP))

    assert first == first_copy  # later steps did not rewrite the queued event
    assert first["object"] == "Event"
    assert first["id"].startswith("evt_")
    assert first["description"] == "tracker.updated"
    assert first["previous_attributes"] == {"status": "pre_transit"}
    assert first["result"]["object"] == "Tracker"
    assert first["result"]["status"] == "in_transit"


async def test_refunded_labels_stop_moving(easypost: Harness) -> None:
    bought = await easypost.bought()
    await easypost.client.post(f"/v2/shipments/{bought['id']}/refund", headers=AUTH)

    events = easypost.carrier.advance(datetime.now(UTC) + timedelta(days=30))

    assert events == []


async def test_delivery_retries_until_the_receiver_accepts(easypost: Harness) -> None:
    easypost.receiver.failures = 3  # connection error, 500, connection error
    await easypost.bought()
    [event] = easypost.carrier.outbox  # tracker.created

    delivered = await easypost.carrier.deliver(event)

    assert delivered
    assert easypost.receiver.attempts == 4
    assert [e["id"] for e in easypost.receiver.received] == [event["id"]]


async def test_delivery_gives_up_only_after_the_retry_window(easypost: Harness) -> None:
    easypost.receiver.failures = 10**6
    easypost.carrier.retry_window = 0.5  # several attempts, even on a loaded machine
    await easypost.bought()

    delivered = await easypost.carrier.deliver(easypost.carrier.outbox[0])

    assert not delivered
    assert easypost.receiver.attempts >= 3


async def test_a_failing_event_does_not_hold_back_others(easypost: Harness) -> None:
    first, second = await easypost.bought(), await easypost.bought()
    stuck = first["tracker"]["id"]
    easypost.receiver.refuse = lambda event: event["result"]["id"] == stuck
    easypost.carrier.retry_initial = 0.01

    tasks = easypost.carrier.dispatch()
    await asyncio.sleep(0.05)

    assert [e["result"]["id"] for e in easypost.receiver.received] == [second["tracker"]["id"]]
    assert any(not task.done() for task in tasks)  # the first is still being retried
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_some_events_are_delivered_twice_reproducibly(easypost: Harness) -> None:
    def duplicated(seed: int) -> list[bool]:
        ctx = SandboxContext(config=SandboxConfig(seed=seed), http=easypost.ctx.http)
        carrier = Carrier(ctx, duplicate_rate=0.05)
        return [carrier.random.random() < carrier.duplicate_rate for _ in range(400)]

    easypost.carrier.duplicate_rate = 1.0
    await easypost.bought()
    tasks = easypost.carrier.dispatch()
    await asyncio.gather(*tasks)

    assert len(easypost.receiver.received) == 2
    assert easypost.receiver.received[0] == easypost.receiver.received[1]
    assert duplicated(7) == duplicated(7)
    assert 0 < sum(duplicated(7)) < 60


async def test_background_job_pushes_the_whole_journey() -> None:
    receiver = Receiver()
    config = SandboxConfig(
        tracking_step_seconds=0.05, carrier_webhook_url="http://intake/hook", seed=1
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    carrier = Carrier(SandboxContext(config=config, http=http), duplicate_rate=0.0)
    app = FastAPI()
    app.include_router(build_router(carrier))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/easypost") as client:
        await Harness(carrier, client, receiver).bought()
    job = asyncio.create_task(carrier.run())
    for _ in range(100):
        if [e["result"]["status"] for e in receiver.received][-1:] == ["delivered"]:
            break
        await asyncio.sleep(0.02)
    job.cancel()
    await asyncio.gather(job, return_exceptions=True)
    await http.aclose()

    assert [(e["description"], e["result"]["status"]) for e in receiver.received] == [
        ("tracker.created", "pre_transit"),
        ("tracker.updated", "in_transit"),
        ("tracker.updated", "out_for_delivery"),
        ("tracker.updated", "delivered"),
    ]


async def test_the_app_mounts_the_carrier_with_its_background_job() -> None:
    app = create_app(SandboxConfig())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        response = await client.post("/easypost/v2/shipments", json=shipment(), headers=AUTH)

    assert response.status_code == 201
    assert any(
        getattr(job, "__self__", None).__class__ is Carrier for job in app.state.sandbox.background
    )


async def test_an_invalid_shipment_does_not_burn_the_key(easypost: Harness) -> None:
    headers = {**AUTH, "Idempotency-Key": "order-1:label:create"}
    without_customs = shipment(customs_info=None)

    refused = await easypost.client.post("/v2/shipments", json=without_customs, headers=headers)
    created = await easypost.client.post("/v2/shipments", json=shipment(), headers=headers)

    assert refused.status_code == 422
    assert created.status_code == 201
