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
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field
from temporalio.client import Client

from crossdock.api_errors import error_response, refusals
from crossdock.config import Settings
from crossdock.models.dispute import DisputeEvent, DisputePolicy, DisputeProvider
from crossdock.partners.stripe_disputes import dispute_snapshot
from starter.dispute_start import deliver_dispute_event
from starter.rate_limit import enforce
from starter.stripe_signature import SignatureRefused, verify

log = structlog.get_logger(__name__)

DISPUTE_EVENTS = "charge.dispute."
# Stripe's ids and types are short; longer ones are no Stripe event (and no workflow id).
MAX_ID, MAX_TYPE = 255, 100


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
            event_id, kind, event = _event(payload)
        except ValueError as err:
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


def _event(payload: bytes) -> tuple[str, str, dict[str, Any]]:
    """The event's id, type and whole object, or ValueError naming what is not Stripe's."""
    try:
        event = json.loads(payload)
    except ValueError as err:
        raise ValueError(f"the body is not JSON: {err}") from None
    if not isinstance(event, dict):
        raise ValueError(f"the body is a JSON {type(event).__name__}, not an event object")
    event_id, kind = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_ID:
        raise ValueError(f"id must be the event's id (a string of 1 to {MAX_ID} characters)")
    if not isinstance(kind, str) or not 0 < len(kind) <= MAX_TYPE:
        raise ValueError(f"type must be an event type such as '{DISPUTE_EVENTS}created'")
    return event_id, kind, event


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
        dispute=dispute_snapshot(_data_object(event)),
    )


def _data_object(event: dict[str, Any]) -> Any:
    data = event.get("data")
    if not isinstance(data, dict):
        raise ValueError("data must be an object holding the dispute as data.object")
    return data.get("object")


def _refuse(status: int, code: str, reason: str) -> JSONResponse:
    log.warning(f"stripe_webhook_{code}", reason=reason, status=status)
    return error_response(status, code, reason)


class WebhookAnswer(BaseModel):
    """What intake did with a webhook event it accepted."""

    status: str = Field(description="delivered, duplicate, ignored, closed, refused, ...")
    workflow_id: str | None = None
    event_id: str | None = None
    type: str | None = None
    reason: str | None = None


# What the spec says a Stripe event is: only what intake checks of every event (the rest
# of a dispute event is checked when it is one, answering 400 naming the field).
STRIPE_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": MAX_ID},
        "type": {"type": "string", "minLength": 1, "maxLength": MAX_TYPE},
    },
}
STRIPE_SIGNATURE = APIKeyHeader(
    name="Stripe-Signature",
    scheme_name="StripeSignature",
    description="t=<unix time>,v1=<HMAC-SHA256 of '{t}.{raw body}' with the endpoint secret>",
    auto_error=False,
)


def stripe_webhook_router() -> APIRouter:
    """`POST /webhooks/stripe`, served with a `StripeWebhookIntake` in `app.state.stripe`."""
    router = APIRouter(tags=["intake"])

    @router.post(
        "/webhooks/stripe",
        response_model=WebhookAnswer,
        responses=refusals(400, 409, 429, 503),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": STRIPE_EVENT}},
            }
        },
    )
    async def stripe_webhook(
        request: Request, signature: Annotated[str | None, Security(STRIPE_SIGNATURE)]
    ) -> JSONResponse:
        """Stripe events (disputes) → signals to their dispute workflows. Refusals of the
        signature are 400, as Stripe's own libraries answer them."""
        enforce(request, "stripe")
        intake: StripeWebhookIntake = request.app.state.stripe
        return await intake.receive(await request.body(), signature)

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
