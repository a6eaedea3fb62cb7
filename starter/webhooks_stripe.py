"""Stripe webhooks → dispute workflows (`POST /webhooks/stripe`).

Every request is verified first (`Stripe-Signature`, 300 s tolerance) and refused with a
4xx naming why: forged, tampered, wrong secret, stale, future, or a replay of a
signature already seen. `charge.dispute.*` events then signal-with-start the dispute's
workflow `dispute-stripe-{id}`, which keeps the order of events and ignores duplicates
durably; intake only remembers recent event ids so a redelivery costs no signal. A 2xx
means the workflow has the event, so Stripe's at-least-once retries cover any failure.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

from crossdock.config import Settings
from crossdock.models.dispute import DisputeEvent, DisputePolicy, DisputeProvider
from crossdock.partners.stripe_disputes import dispute_snapshot
from starter.dispute_start import deliver_dispute_event
from starter.rate_limit import enforce
from starter.stripe_signature import SignatureRefused, verify

log = structlog.get_logger(__name__)

DISPUTE_EVENTS = "charge.dispute."


class Remembered:
    """A bounded set: the oldest entries are forgotten first."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def __contains__(self, item: str) -> bool:
        return item in self._items

    def add(self, item: str) -> None:
        self._items[item] = None
        self._items.move_to_end(item)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class StripeWebhookIntake:
    """Verifies Stripe webhooks and hands dispute events to their workflows.

    Args:
        client: Temporal client.
        secret: The endpoint's signing secret (`whsec_...`).
        task_queue: Where dispute workflows run.
        policy: The dispute policy new disputes start with.
        clock: Unix time now (tests move it).
    """

    def __init__(
        self,
        client: Client,
        secret: str,
        task_queue: str,
        policy: DisputePolicy,
        clock: Callable[[], float] = time.time,
        memory: int = 10_000,
    ) -> None:
        self._client = client
        self._secret = secret
        self._task_queue = task_queue
        self._policy = policy
        self._clock = clock
        self._signatures = Remembered(memory)
        self._events = Remembered(memory)

    async def receive(self, payload: bytes, header: str | None) -> JSONResponse:
        """Verify, then deliver; the response says what happened."""
        try:
            signed = verify(payload, header, self._secret, self._clock())
        except SignatureRefused as refused:
            return _refuse(400, "signature_refused", str(refused))
        replay_key = f"{signed.timestamp}:{signed.signature}"
        if replay_key in self._signatures:
            # Stripe signs every delivery afresh: the same signature twice is a replay.
            return _refuse(409, "replay_refused", "this exact signed request was seen before")
        self._signatures.add(replay_key)
        try:
            event = json.loads(payload)
            event_id, kind = str(event["id"]), str(event["type"])
        except (ValueError, KeyError, TypeError) as err:
            return _refuse(400, "event_malformed", f"not a Stripe event: {err}")
        if event_id in self._events:
            log.info("stripe_event_duplicate", event_id=event_id)
            return JSONResponse({"status": "duplicate", "event_id": event_id})
        if not kind.startswith(DISPUTE_EVENTS):
            return JSONResponse({"status": "ignored", "type": kind})
        try:
            dispute_event = _dispute_event(event)
        except ValueError as err:
            return _refuse(400, "event_malformed", f"{kind} {event_id}: {err}")
        workflow_id, status = await self._deliver(dispute_event)
        self._events.add(event_id)
        return JSONResponse({"status": status, "workflow_id": workflow_id})

    async def _deliver(self, event: DisputeEvent) -> tuple[str, str]:
        return await deliver_dispute_event(
            self._client, DisputeProvider.STRIPE, event, self._task_queue, self._policy
        )


def _dispute_event(event: dict[str, Any]) -> DisputeEvent:
    created = event.get("created")
    # Stripe's `created` is unix seconds now-ish; past the year 2286 (or a bool) it is no
    # timestamp, and `fromtimestamp` would overflow.
    if not isinstance(created, int) or isinstance(created, bool) or not 0 <= created < 10**10:
        shown = repr(created) if len(repr(created)) <= 24 else f"{repr(created)[:24]}..."
        raise ValueError(f"created {shown} is not a unix timestamp")
    return DisputeEvent(
        event_id=event["id"],
        type=event["type"],
        created=datetime.fromtimestamp(created, UTC),
        dispute=dispute_snapshot((event.get("data") or {}).get("object") or {}),
    )


def _refuse(status: int, event: str, reason: str) -> JSONResponse:
    log.warning(f"stripe_webhook_{event}", reason=reason, status=status)
    return JSONResponse({"error": reason}, status_code=status)


def stripe_webhook_router() -> APIRouter:
    """`POST /webhooks/stripe`, served with a `StripeWebhookIntake` in `app.state.stripe`."""
    router = APIRouter()

    @router.post("/webhooks/stripe")
    async def stripe_webhook(request: Request) -> JSONResponse:
        """Stripe events (disputes) → signals to their dispute workflows."""
        enforce(request, "stripe")
        intake: StripeWebhookIntake = request.app.state.stripe
        return await intake.receive(await request.body(), request.headers.get("Stripe-Signature"))

    return router


def dispute_policy(settings: Settings) -> DisputePolicy:
    """The dispute policy from settings: each field from the setting `dispute_{field}`."""
    return DisputePolicy(
        **{
            name: getattr(settings, f"dispute_{name}")
            for name in DisputePolicy.model_fields
            if hasattr(settings, f"dispute_{name}")
        }
    )
