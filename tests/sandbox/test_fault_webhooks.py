"""Outbound webhooks at least once, and the profile's untidiness, as a receiving server
sees them over real HTTP: retries on refusals and unreachable receivers, duplicates,
delays, reordering, a lost first attempt, fresh headers on every attempt."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.core.webhooks import Backoff, Outbox
from crossdock.sandbox.faults import FaultProfile
from crossdock.sandbox.stripe.dispute_config import DisputeSandboxConfig
from starter.stripe_signature import verify
from tests.sandbox.test_carrier import AUTH as EASYPOST
from tests.sandbox.test_carrier import shipment
from tests.servers import free_port, serve

FAST = Backoff(initial=0.1, maximum=0.2, window=5.0)


@dataclass
class Received:
    event: str
    body: bytes
    headers: dict[str, str]
    at: float


@dataclass
class Receiver:
    """A webhook endpoint that refuses its first `refuse` deliveries with a 503."""

    refuse: int = 0
    attempts: int = 0
    received: list[Received] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            self.attempts += 1
            if self.refuse:
                self.refuse -= 1
                return Response(status_code=503)
            raw = await request.body()
            event = json.loads(raw)["id"]
            self.received.append(Received(event, raw, dict(request.headers), time.monotonic()))
            return Response(status_code=200)

        return app

    @property
    def events(self) -> list[str]:
        return [r.event for r in self.received]

    def until(self, count: int, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)  # the receiver runs on the server's own thread


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    found = Receiver()
    with serve(found.app()) as url:
        yield found, f"{url}/hook"


def outbox(webhooks: dict[str, float], **rule: Any) -> tuple[Outbox, SandboxContext]:
    faults = FaultProfile.model_validate(
        {"seed": 5, "partners": {"easypost": {"webhooks": webhooks, **rule}}}
    )
    ctx = SandboxContext(config=SandboxConfig(faults=faults))
    stamps = itertools.count(1)
    return Outbox(ctx, "easypost", lambda body: {"X-Attempt": str(next(stamps))}, FAST), ctx


def body(event_id: str) -> bytes:
    return json.dumps({"id": event_id}).encode()


async def test_refusals_are_retried_with_fresh_headers_until_accepted(
    receiver: tuple[Receiver, str],
) -> None:
    found, url = receiver
    found.refuse = 2
    box, _ = outbox({})

    [task] = box.send(url, body("evt_1"), "evt_1")

    assert await task
    assert (found.attempts, found.events) == (3, ["evt_1"])
    assert found.received[0].headers["x-attempt"] == "3"  # computed per attempt
    assert found.received[0].headers["content-type"] == "application/json"


async def test_an_unreachable_receiver_is_retried_then_abandoned() -> None:
    box, _ = outbox({})
    box.backoff = Backoff(initial=0.05, maximum=0.05, attempts=3)
    started = time.monotonic()

    delivered = await box.deliver(f"http://127.0.0.1:{free_port()}/hook", body("e"), "e")

    assert not delivered
    assert time.monotonic() - started >= 0.1  # two waits between three attempts


async def test_duplicated_events_arrive_twice_the_copy_later(
    receiver: tuple[Receiver, str],
) -> None:
    found, url = receiver
    box, ctx = outbox({"duplicate": 1.0}, webhook_delay_seconds=(0.1, 0.3))

    await asyncio.gather(*box.send(url, body("evt_1"), "evt_1"))

    assert found.events == ["evt_1", "evt_1"]
    assert found.received[1].at - found.received[0].at >= 0.2
    assert ctx.fault_counts.snapshot()["partners"] == {"easypost": {"webhook.duplicate": 1}}


async def test_reordered_events_wait_for_a_later_one(receiver: tuple[Receiver, str]) -> None:
    found, url = receiver
    box, ctx = outbox({"reorder": 1.0}, webhook_delay_seconds=(0.1, 0.5))

    # Every event waits for a later one; the last waits out its hold, then the first goes.
    tasks = box.send(url, body("evt_1"), "evt_1") + box.send(url, body("evt_2"), "evt_2")
    await asyncio.gather(*tasks)

    assert found.events == ["evt_2", "evt_1"]
    assert ctx.fault_counts.get("easypost", "webhook.reorder") == 2


async def test_delayed_events_are_held_back(receiver: tuple[Receiver, str]) -> None:
    found, url = receiver
    box, _ = outbox({"delay": 1.0}, webhook_delay_seconds=(0.4, 0.5))
    started = time.monotonic()

    await asyncio.gather(*box.send(url, body("evt_1"), "evt_1"))

    assert found.events == ["evt_1"]
    assert found.received[0].at - started >= 0.4


async def test_a_dropped_first_attempt_is_retried_on_the_backoff(
    receiver: tuple[Receiver, str],
) -> None:
    found, url = receiver
    box, ctx = outbox({"drop": 1.0})
    started = time.monotonic()

    [task] = box.send(url, body("evt_1"), "evt_1")

    assert await task
    assert (found.attempts, found.events) == (1, ["evt_1"])  # the first never arrived
    assert found.received[0].at - started >= FAST.initial
    assert ctx.fault_counts.get("easypost", "webhook.drop") == 1


def test_the_same_seed_draws_the_same_webhook_faults() -> None:
    def draws(seed: int) -> list[Any]:
        faults = FaultProfile.model_validate(
            {"seed": seed, "default": {"webhooks": {"duplicate": 0.3, "drop": 0.3}}}
        )
        box = Outbox(SandboxContext(config=SandboxConfig(faults=faults)), "stripe", lambda b: {})
        return [box._draw() for _ in range(50)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)


def buy_label(sandbox: str) -> None:
    created = httpx.post(f"{sandbox}/easypost/v2/shipments", json=shipment(), headers=EASYPOST)
    rate = {"id": created.json()["rates"][0]["id"]}
    bought = httpx.post(
        f"{sandbox}/easypost/v2/shipments/{created.json()['id']}/buy",
        json={"rate": rate},
        headers=EASYPOST,
    )
    assert bought.status_code == 200, bought.text


def open_dispute(sandbox: str) -> None:
    intent = httpx.post(
        f"{sandbox}/stripe/v1/payment_intents",
        data={
            "amount": "900",
            "currency": "eur",
            "confirm": "true",
            "payment_method": "pm_card_visa",
        },
        headers={"Authorization": "Bearer sk_test_x"},
    ).json()
    opened = httpx.post(
        f"{sandbox}/stripe/_sandbox/disputes", json={"payment_intent": intent["id"]}
    )
    assert opened.status_code == 200, opened.text


def test_the_carrier_and_stripe_push_through_the_profile(receiver: tuple[Receiver, str]) -> None:
    found, url = receiver
    faults = FaultProfile.model_validate(
        {"default": {"webhooks": {"duplicate": 1.0}, "webhook_delay_seconds": [0.1, 0.2]}}
    )
    config = SandboxConfig(
        faults=faults,
        carrier_webhook_url=url,
        disputes=DisputeSandboxConfig(webhook_url=url, webhook_secret="whsec_t"),
    )
    with serve(create_app(config)) as sandbox:
        buy_label(sandbox)
        open_dispute(sandbox)
        found.until(6)
        seen = httpx.get(f"{sandbox}/_sandbox/faults").json()

    carrier = [r for r in found.received if "stripe-signature" not in r.headers]
    stripe = [r for r in found.received if "stripe-signature" in r.headers]
    assert len(carrier) == 2 and len({r.event for r in carrier}) == 1
    assert carrier[0].headers["user-agent"] == "EasyPost WebHook Agent 1.0"
    copies = Counter(r.event for r in stripe)  # dispute created, funds withdrawn
    assert len(copies) == 2 and set(copies.values()) == {2}
    for delivery in stripe:  # signed afresh for each delivery
        verify(delivery.body, delivery.headers["stripe-signature"], "whsec_t", now=time.time())
    assert seen["partners"] == {
        "easypost": {"webhook.duplicate": 1},
        "stripe": {"webhook.duplicate": 2},
    }
