"""EasyPost webhooks → tracking signals (`POST /webhooks/easypost`), verified first.

EasyPost signs every delivery with the webhook's secret: `X-Hmac-Signature:
hmac-sha256-hex=<hex>`, HMAC-SHA256 over the raw body, the secret NFKD-normalized (what
the official SDK's `validate_webhook` checks; tests prove both directions). Each request
is, in order: rate-limited per source (429), verified (401), parsed (400 naming what is
wrong, never 500), checked against the replay window (an Event's `created_at` more than
`MAX_EVENT_AGE` old or in the future: 400), de-duplicated by event id (200 "duplicate",
no signal), then handed to the `TrackingRouter`, which re-reads the tracker from the
carrier before any status that moves money or goods reaches a workflow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader

from crossdock.api_errors import error_response, refusals
from crossdock.partners.carrier_events import NotATrackerEvent
from crossdock.partners.errors import PartnerError, PartnerRejected
from starter.rate_limit import enforce
from starter.tracking import TrackingRouter, UnconfirmedEvent
from starter.webhooks_stripe import Remembered, WebhookAnswer

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = {"tracker.created", "tracker.updated"}
# EasyPost retries a failing webhook for about three days; an Event older than this is
# a replay, not a retry. A little clock skew is allowed the other way.
MAX_EVENT_AGE = timedelta(days=4)
MAX_SKEW = timedelta(minutes=5)


class SignatureRefused(Exception):
    """Why an EasyPost webhook's signature was not accepted (the message names it)."""


def signature(body: bytes, secret: str) -> str:
    """The `X-Hmac-Signature` value EasyPost sends for `body`."""
    key = unicodedata.normalize("NFKD", secret).encode()
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> None:
    """Check `header` against the raw `body`, in constant time.

    Raises:
        SignatureRefused: header missing, not `hmac-sha256-hex=...`, or not matching
            (forged, body changed, or another secret).
    """
    if not header:
        raise SignatureRefused(f"{SIGNATURE_HEADER} header is missing")
    if not header.startswith(SIGNATURE_PREFIX):
        raise SignatureRefused(f"{SIGNATURE_HEADER} is not '{SIGNATURE_PREFIX}<hex>'")
    if not hmac.compare_digest(header.encode(), signature(body, secret).encode()):
        raise SignatureRefused(
            f"{SIGNATURE_HEADER} does not match the body (body changed, or another secret)"
        )


def _created_at(event: Mapping[str, Any]) -> datetime:
    value = event.get("created_at")
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(f"created_at {str(value)[:40]!r} is not an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"created_at {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class EasyPostWebhookIntake:
    """Verifies EasyPost webhooks and routes tracker events to their workflows.

    Args:
        router: Maps events to workflows, re-reading trackers where it matters.
        secret: The webhook's secret.
        clock: Unix time now (tests move it).
        memory: How many delivered event ids are remembered to drop redeliveries.
    """

    def __init__(
        self,
        router: TrackingRouter,
        secret: str,
        clock: Callable[[], float] = time.time,
        memory: int = 10_000,
    ) -> None:
        self._router = router
        self._secret = secret
        self._clock = clock
        self._events = Remembered(memory)

    async def receive(self, body: bytes, header: str | None) -> JSONResponse:
        """Verify, parse, check age and duplicates, deliver; the response says which."""
        try:
            verify(body, header, self._secret)
        except SignatureRefused as refused:
            return _refuse(401, "signature_refused", str(refused))
        try:
            event = _event(body)
            age = datetime.fromtimestamp(self._clock(), UTC) - _created_at(event)
        except ValueError as err:
            return _refuse(400, "event_malformed", str(err))
        if age > MAX_EVENT_AGE or -age > MAX_SKEW:
            why = f"event {event['id']} was created {int(age.total_seconds())} s ago"
            return _refuse(400, "replay_refused", f"{why}; accepted: up to {MAX_EVENT_AGE}")
        if event["id"] in self._events:
            log.info("tracker_event_duplicate", event_id=event["id"])
            return JSONResponse({"status": "duplicate", "event_id": event["id"]})
        if event.get("description") not in TRACKER_EVENTS:
            return JSONResponse({"status": "ignored"})
        return await self._deliver(event)

    async def _deliver(self, event: dict[str, Any]) -> JSONResponse:
        try:
            workflow_id = await self._router.deliver(event)
        except NotATrackerEvent as err:
            # Acknowledge: redelivering an event about something else never succeeds.
            log.warning("tracker_event_refused", error=str(err))
            return JSONResponse({"status": "refused", "reason": str(err)})
        except UnconfirmedEvent as err:
            return _refuse(422, "event_unconfirmed", str(err))
        except ValueError as err:
            return _refuse(400, "event_malformed", str(err))
        except PartnerRejected as err:
            # The carrier does not know the tracker or shipment the event names.
            return _refuse(422, "event_unconfirmed", f"the carrier refused to confirm: {err}")
        except PartnerError as err:
            # The carrier could not confirm the event right now: 503, so EasyPost
            # redelivers it later.
            log.warning("tracker_event_deferred", error=str(err))
            return _refuse(503, "carrier_unavailable", f"retry later: {err}")
        self._events.add(event["id"])
        return JSONResponse({"status": "delivered", "workflow_id": workflow_id})


def _event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except ValueError as err:
        raise ValueError(f"the body is not JSON: {err}") from None
    if not isinstance(event, dict):
        raise ValueError(f"the body is a JSON {type(event).__name__}, not an Event object")
    if event.get("object") != "Event":
        raise ValueError(f"object must be 'Event', got {str(event.get('object'))[:40]!r}")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 64:
        raise ValueError("id must be the Event's id (a string of 1 to 64 characters)")
    if not isinstance(event.get("description", ""), str):
        raise ValueError("description must be a string such as 'tracker.updated'")
    if not isinstance(event.get("result", {}), dict):
        raise ValueError("result must be an object (the Tracker the event is about)")
    return event


def _refuse(status: int, code: str, reason: str) -> JSONResponse:
    log.warning(f"easypost_webhook_{code}", reason=reason, status=status)
    return error_response(status, code, reason)


# What the spec says an EasyPost Event is: what intake checks of every event (a tracker
# event's `result` is checked, and re-read from the carrier, when it is one).
EASYPOST_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["object", "id", "created_at"],
    "properties": {
        "object": {"type": "string", "enum": ["Event"]},
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
        "created_at": {"type": "string", "format": "date-time", "maxLength": 40},
        "description": {"type": "string"},
        "result": {"type": "object"},
    },
}
EASYPOST_SIGNATURE = APIKeyHeader(
    name=SIGNATURE_HEADER,
    scheme_name="EasyPostSignature",
    description=f"{SIGNATURE_PREFIX}<HMAC-SHA256 of the raw body with the webhook secret>",
    auto_error=False,
)


def easypost_webhook_router() -> APIRouter:
    """`POST /webhooks/easypost`, served by the `EasyPostWebhookIntake` in
    `app.state.easypost`."""
    router = APIRouter(tags=["intake"])

    @router.post(
        "/webhooks/easypost",
        response_model=WebhookAnswer,
        responses=refusals(400, 401, 422, 429, 503),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": EASYPOST_EVENT}},
            }
        },
    )
    async def carrier_webhook(
        request: Request, signature: Annotated[str | None, Security(EASYPOST_SIGNATURE)]
    ) -> JSONResponse:
        """EasyPost tracker events → signals to the order or return they are about."""
        enforce(request, "easypost")
        intake: EasyPostWebhookIntake = request.app.state.easypost
        return await intake.receive(await request.body(), signature)

    return router
