"""Tracker scenarios in the carrier sandbox: delays, customs holds, losses, returns and
address problems, drawn at configured rates or forced by tests; driven by `advance`."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.easypost.carrier import Carrier
from crossdock.sandbox.easypost.routes import build_router
from crossdock.sandbox.easypost.scenarios import (
    EXCEPTIONS,
    JOURNEYS,
    Scenario,
    draw_scenario,
    fits,
)
from tests.sandbox.test_carrier import AUTH, STEP, Harness, Receiver, shipment

Scans = list[tuple[str, str]]

DEPARTED = ("in_transit", "departed_facility")
AT_HUB = ("in_transit", "arrived_at_facility")
AT_DESTINATION_FACILITY = ("in_transit", "received_at_destination_facility")
OUT_FOR_DELIVERY = ("out_for_delivery", "out_for_delivery")
DELIVERED = ("delivered", "arrived_at_destination")

# What each scenario shows after the label is created: the webhook Events' statuses.
EXPECTED: dict[Scenario, Scans] = {
    Scenario.NORMAL: [DEPARTED, OUT_FOR_DELIVERY, DELIVERED],
    Scenario.DELAYED: [
        DEPARTED,
        AT_HUB,
        ("in_transit", "weather_delay"),
        ("in_transit", "delayed"),
        AT_DESTINATION_FACILITY,
        OUT_FOR_DELIVERY,
        DELIVERED,
    ],
    Scenario.CUSTOMS_HOLD: [
        DEPARTED,
        ("in_transit", "held"),
        AT_DESTINATION_FACILITY,
        OUT_FOR_DELIVERY,
        DELIVERED,
    ],
    Scenario.LOST: [DEPARTED, AT_HUB],
    Scenario.RETURN_TO_SENDER: [
        DEPARTED,
        OUT_FOR_DELIVERY,
        ("return_to_sender", "refused"),
        ("return_to_sender", "return"),
    ],
    Scenario.ADDRESS_PROBLEM: [DEPARTED, OUT_FOR_DELIVERY, ("failure", "address_correction")],
}


def carrier_with(receiver: Receiver, **config: Any) -> Carrier:
    settings = SandboxConfig(
        tracking_step_seconds=STEP, carrier_webhook_url="http://intake/webhooks/easypost", **config
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    return Carrier(SandboxContext(config=settings, http=http), retry_initial=0.001)


@pytest.fixture
async def easypost() -> AsyncIterator[Harness]:
    receiver = Receiver()
    carrier = carrier_with(receiver, seed=7)
    app = FastAPI()
    app.include_router(build_router(carrier))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/easypost") as client:
        yield Harness(carrier, client, receiver)
    await carrier.ctx.http.aclose()


def run_all(carrier: Carrier, steps: int = 40) -> dict[str, list[tuple[int, str, str]]]:
    """Advance the clock one tracking step at a time from the latest purchase; each
    tracker's Events as (step, status, detail)."""
    start = max(tracker.last_step_at for tracker in carrier.trackers.values())
    seen: dict[str, list[tuple[int, str, str]]] = {}
    for step in range(1, steps + 1):
        for event in carrier.advance(start + timedelta(seconds=STEP * step)):
            tracker = event["result"]
            seen.setdefault(tracker["id"], []).append(
                (step, tracker["status"], tracker["status_detail"])
            )
    return seen


def run_steps(carrier: Carrier, tracker_id: str, steps: int = 40) -> list[tuple[int, str, str]]:
    """`run_all`, for one tracker."""
    return run_all(carrier, steps).get(tracker_id, [])


def scans(seen: list[tuple[int, str, str]]) -> Scans:
    return [(status, detail) for _, status, detail in seen]


async def bought_with(h: Harness, scenario: str) -> dict[str, Any]:
    return await h.bought(options={"sandbox_scenario": scenario})


@pytest.mark.parametrize("scenario", list(Scenario))
async def test_each_scenario_shows_its_scans_in_order(
    easypost: Harness, scenario: Scenario
) -> None:
    bought = await bought_with(easypost, scenario.value)
    tracker_id = bought["tracker"]["id"]

    seen = scans(run_steps(easypost.carrier, tracker_id))

    assert seen == EXPECTED[scenario]
    tracker = (await easypost.client.get(f"/v2/trackers/{tracker_id}", headers=AUTH)).json()
    assert [(d["status"], d["status_detail"]) for d in tracker["tracking_details"]] == [
        ("pre_transit", "label_created"),
        *EXPECTED[scenario],
    ]
    assert (tracker["status"], tracker["status_detail"]) == EXPECTED[scenario][-1]
    shipment_now = await easypost.client.get(f"/v2/shipments/{bought['id']}", headers=AUTH)
    assert shipment_now.json()["status"] == EXPECTED[scenario][-1][0]


async def test_a_delayed_parcel_sits_still_and_arrives_much_later(easypost: Harness) -> None:
    normal = await bought_with(easypost, "normal")
    delayed = await bought_with(easypost, "delayed")

    seen = run_all(easypost.carrier)
    normal_steps, delayed_steps = (seen[p["tracker"]["id"]] for p in (normal, delayed))

    assert normal_steps[-1][0] == 3
    assert delayed_steps[-1][0] == 10  # weather holds it 3 steps, the missed connection 2
    steps_at = {detail: step for step, _, detail in delayed_steps}
    assert steps_at["delayed"] - steps_at["weather_delay"] == 3
    assert steps_at["received_at_destination_facility"] - steps_at["delayed"] == 2


async def test_customs_hold_shows_customs_in_the_message(easypost: Harness) -> None:
    bought = await bought_with(easypost, "customs_hold")
    tracker_id = bought["tracker"]["id"]
    run_steps(easypost.carrier, tracker_id)

    details = easypost.carrier.trackers[tracker_id].data["tracking_details"]
    [held] = [d for d in details if d["status_detail"] == "held"]
    assert "customs" in held["message"].lower()
    assert held["tracking_location"]["country"] == "FR"  # held where it is imported


async def test_a_lost_parcel_goes_silent_for_good(easypost: Harness) -> None:
    bought = await bought_with(easypost, "lost")
    tracker_id = bought["tracker"]["id"]
    run_steps(easypost.carrier, tracker_id)

    later = easypost.carrier.advance(datetime.now(UTC) + timedelta(days=90))

    assert later == []
    tracker = easypost.carrier.trackers[tracker_id].data
    assert (tracker["status"], tracker["status_detail"]) == AT_HUB
    assert tracker["signed_by"] is None


async def test_the_returned_parcel_ends_back_at_the_origin(easypost: Harness) -> None:
    bought = await bought_with(easypost, "return_to_sender")
    tracker_id = bought["tracker"]["id"]
    run_steps(easypost.carrier, tracker_id)

    *_, refused, returned = easypost.carrier.trackers[tracker_id].data["tracking_details"]
    assert refused["tracking_location"]["city"] == "Paris"
    assert "Refused" in refused["message"]
    assert returned["tracking_location"]["city"] == "Hamburg"


async def test_an_unknown_scenario_option_is_refused_naming_the_field(easypost: Harness) -> None:
    response = await easypost.client.post(
        "/v2/shipments", json=shipment(options={"sandbox_scenario": "stolen"}), headers=AUTH
    )

    assert response.status_code == 422
    [error] = response.json()["error"]["errors"]
    assert error["field"] == "options.sandbox_scenario"
    assert "'stolen'" in error["message"] and "return_to_sender" in error["message"]


# --- forcing a scenario through the admin routes --------------------------------------


async def force(h: Harness, shipment_id: str, scenario: str) -> httpx.Response:
    return await h.client.post(
        f"/_sandbox/shipments/{shipment_id}/scenario", json={"scenario": scenario}
    )


async def test_a_scenario_forced_after_purchase_takes_over(easypost: Harness) -> None:
    bought = await easypost.bought()
    tracker_id = bought["tracker"]["id"]

    forced = await force(easypost, bought["id"], "lost")

    assert forced.status_code == 200, forced.text
    assert forced.json()["scenario"] == "lost"
    assert forced.json()["tracker_id"] == tracker_id
    assert [s["status_detail"] for s in forced.json()["scans"]] == [
        "label_created",
        "departed_facility",
        "arrived_at_facility",
    ]
    assert scans(run_steps(easypost.carrier, tracker_id)) == EXPECTED[Scenario.LOST]


async def test_a_scenario_forced_before_purchase_applies_to_the_label(easypost: Harness) -> None:
    created = await easypost.create()

    await force(easypost, created["id"], "address_problem")
    bought = (await easypost.buy(created)).json()

    seen = scans(run_steps(easypost.carrier, bought["tracker"]["id"]))
    assert seen == EXPECTED[Scenario.ADDRESS_PROBLEM]
    read = await easypost.client.get(f"/_sandbox/shipments/{created['id']}/scenario")
    assert read.json()["scenario"] == "address_problem"


async def test_forcing_is_refused_once_the_parcel_went_another_way(easypost: Harness) -> None:
    bought = await easypost.bought()
    tracker_id = bought["tracker"]["id"]
    run_steps(easypost.carrier, tracker_id, steps=2)  # departed, out for delivery

    too_late = await force(easypost, bought["id"], "delayed")
    still_fits = await force(easypost, bought["id"], "address_problem")

    assert too_late.status_code == 422
    assert too_late.json()["error"]["code"] == "SHIPMENT.SCENARIO.TOO_LATE"
    assert "out_for_delivery" in too_late.json()["error"]["message"]
    assert still_fits.status_code == 200
    assert scans(run_steps(easypost.carrier, tracker_id))[-1] == ("failure", "address_correction")


async def test_forcing_names_what_is_wrong(easypost: Harness) -> None:
    created = await easypost.create()

    unknown = await force(easypost, created["id"], "abducted")
    missing = await easypost.client.post(f"/_sandbox/shipments/{created['id']}/scenario", json={})
    nowhere = await force(easypost, "shp_nope", "lost")

    assert unknown.status_code == missing.status_code == 422
    assert unknown.json()["error"]["errors"][0]["field"] == "scenario"
    assert "'abducted'" in unknown.json()["error"]["message"]
    assert nowhere.status_code == 404


async def test_a_scenario_waiting_for_a_reference_is_used_by_one_label(easypost: Harness) -> None:
    reference = "order-storefront-SF9"
    waiting = await easypost.client.post(
        "/_sandbox/scenarios", json={"reference": reference, "scenario": "return_to_sender"}
    )
    other = await easypost.bought(reference="order-storefront-OTHER")
    first = await easypost.bought(reference=reference)
    rebought = await easypost.bought(reference=reference)

    assert waiting.json() == {"reference": reference, "scenario": "return_to_sender"}
    trackers = easypost.carrier.trackers
    assert trackers[other["tracker"]["id"]].scenario is Scenario.NORMAL
    assert trackers[first["tracker"]["id"]].scenario is Scenario.RETURN_TO_SENDER
    assert trackers[rebought["tracker"]["id"]].scenario is Scenario.NORMAL
    refused = await easypost.client.post("/_sandbox/scenarios", json={"scenario": "lost"})
    assert refused.json()["error"]["errors"][0]["field"] == "reference"


# --- drawn at configured rates ----------------------------------------------------------


def drawn(
    seed: int, count: int, rates: dict[str, float] | None = None, forced_at: int | None = None
) -> list[Scenario]:
    """The scenarios of `count` parcels bought in a row on a fresh sandbox carrier."""
    carrier = carrier_with(Receiver(), seed=seed, tracker_exception_rates=rates or {})
    scenarios = []
    for index in range(count):
        options = {"sandbox_scenario": "lost"} if index == forced_at else None
        created = carrier.create_shipment(shipment(options=options))
        bought = carrier.buy(created["id"], {"rate": {"id": created["rates"][0]["id"]}}, None)
        scenarios.append(carrier.trackers[bought["tracker"]["id"]].scenario)
    return scenarios


def test_rates_with_a_seed_give_a_reproducible_mix() -> None:
    rates = {"delayed": 0.2, "lost": 0.1, "return_to_sender": 0.1, "address_problem": 0.1}

    first, again, other_seed = (drawn(seed, 300, rates) for seed in (3, 3, 4))

    assert first == again
    assert first != other_seed
    counts = Counter(first)
    assert 30 <= counts[Scenario.DELAYED] <= 90
    for scenario in (Scenario.LOST, Scenario.RETURN_TO_SENDER, Scenario.ADDRESS_PROBLEM):
        assert 10 <= counts[scenario] <= 55
    assert counts[Scenario.CUSTOMS_HOLD] == 0
    assert 90 <= counts[Scenario.NORMAL] <= 210


def test_no_rates_means_every_parcel_arrives_normally() -> None:
    assert set(drawn(1, 50)) == {Scenario.NORMAL}


def test_a_forced_parcel_does_not_reshuffle_the_others() -> None:
    rates = {"lost": 0.3, "delayed": 0.3}
    free = drawn(5, 20, rates)
    one_forced = drawn(5, 20, rates, forced_at=7)

    assert one_forced[7] is Scenario.LOST
    assert one_forced[:7] + one_forced[8:] == free[:7] + free[8:]


def test_the_draw_covers_every_exception_at_full_rate() -> None:
    for scenario in EXCEPTIONS:
        assert draw_scenario(random.Random(0), {scenario: 1.0}) is scenario


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ({"stolen": 0.1}, "'stolen'"),
        ({"normal": 0.5}, "'normal'"),
        ({"lost": 1.5}, "use 0 to 1"),
        ({"lost": 0.6, "delayed": 0.6}, "total 1 or less"),
    ],
)
def test_rates_that_make_no_sense_are_refused(rates: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SandboxConfig(tracker_exception_rates=rates)


def test_a_scenario_fits_only_the_scans_it_goes_through() -> None:
    assert fits(Scenario.LOST, [("pre_transit", "label_created")])
    assert fits(Scenario.DELAYED, [("pre_transit", "label_created"), DEPARTED])
    assert not fits(
        Scenario.DELAYED, [("pre_transit", "label_created"), DEPARTED, OUT_FOR_DELIVERY]
    )
    # At the end of its journey a parcel has nothing left to follow.
    lost = [(scan.status, scan.status_detail) for scan in JOURNEYS[Scenario.LOST]]
    assert not fits(Scenario.LOST, lost)


# --- webhooks ---------------------------------------------------------------------------


async def test_exception_events_are_pushed_at_least_once(easypost: Harness) -> None:
    easypost.carrier.duplicate_rate = 1.0  # every Event twice
    bought = await bought_with(easypost, "return_to_sender")

    run_steps(easypost.carrier, bought["tracker"]["id"])
    await asyncio.gather(*easypost.carrier.dispatch())

    pushed = [
        (e["result"]["status"], e["result"]["status_detail"]) for e in easypost.receiver.received
    ]
    assert pushed == [
        item
        for item in [("pre_transit", "label_created"), *EXPECTED[Scenario.RETURN_TO_SENDER]]
        for _ in range(2)
    ]
    assert [e["previous_attributes"] for e in easypost.receiver.received][-2:] == [
        {"status": "return_to_sender"}
    ] * 2


async def test_background_job_pushes_an_address_problem_journey() -> None:
    receiver = Receiver()
    config = SandboxConfig(
        tracking_step_seconds=0.02,
        carrier_webhook_url="http://intake/hook",
        tracker_exception_rates={"address_problem": 1.0},
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
        if [e["result"]["status"] for e in receiver.received][-1:] == ["failure"]:
            break
        await asyncio.sleep(0.02)
    job.cancel()
    await asyncio.gather(job, return_exceptions=True)
    await http.aclose()

    assert [e["result"]["status"] for e in receiver.received] == [
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "failure",
    ]
