"""Carrier tracking webhooks → `tracking_update` signals on the right order workflow.

An EasyPost tracker event names its shipment, not our order; the shipment's `reference`
is the order workflow id we set when buying the label. The mapping is cached, since a
parcel produces several events.

The body's word is taken only for progress short of delivery (pre_transit, in_transit,
out_for_delivery). Any other status moves money or goods: delivered (a dispute's
evidence, the end of an order), return_to_sender and failure (refunds, reshipments),
and the rest. For those the tracker is re-read from the carrier first
(`GET /v2/trackers/{id}`) and the signal carries the status the carrier gives now, not
the body's; an event whose tracker is not the parcel it names is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from crossdock.models.order_steps import OrderResult, TrackingUpdate
from crossdock.models.shipment import ShipmentStatus, TrackerEvent
from crossdock.partners.carrier import CarrierClient
from crossdock.partners.carrier_events import parse_tracker_event
from crossdock.partners.carrier_objects import Tracker
from workflows.order import OrderWorkflow

log = structlog.get_logger(__name__)


# Workflows whose shipments carry their id as the reference: orders (outbound parcels)
# and returns (return labels). Both take the same `tracking_update` signal.
TRACKED = ("order-", "return-")
# Statuses believed from the event body; every other one is confirmed with the carrier.
PROGRESS = frozenset(
    {ShipmentStatus.PRE_TRANSIT, ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY}
)


class UnconfirmedEvent(ValueError):
    """The carrier's tracker does not confirm the event (another parcel, another code)."""


def parse(body: Mapping[str, Any]) -> TrackerEvent:
    """`parse_tracker_event`, with a malformed tracker's fields named in one line."""
    try:
        return parse_tracker_event(body)
    except ValidationError as err:
        wrong = "; ".join(
            f"result.{'.'.join(str(part) for part in e['loc'])}: {e['msg']}"
            for e in err.errors()[:5]
        )
        raise ValueError(f"event {body.get('id')}: {wrong}") from None


class TrackingRouter:
    def __init__(self, client: Client, carrier: CarrierClient, cache_size: int = 10_000) -> None:
        self._client = client
        self._carrier = carrier
        self._workflow_of_shipment: dict[str, str] = {}
        self._cache_size = cache_size

    async def _workflow_id(self, shipment_id: str) -> str | None:
        cached = self._workflow_of_shipment.get(shipment_id)
        if cached is not None:
            return cached
        shipment = await self._carrier.retrieve_shipment(shipment_id)
        if not shipment.reference or not shipment.reference.startswith(TRACKED):
            return None
        if len(self._workflow_of_shipment) >= self._cache_size:
            self._workflow_of_shipment.clear()
        self._workflow_of_shipment[shipment_id] = shipment.reference
        return shipment.reference

    async def deliver(self, body: Mapping[str, Any]) -> str:
        """Signal the event to its order; return the workflow id, or "" when the event
        belongs to no order of ours (a standalone tracker) or the order is closed.

        Raises:
            NotATrackerEvent: a body that is no tracker event at all.
            ValueError: a malformed event (the message names the field).
            UnconfirmedEvent: the carrier's tracker contradicts the event's parcel.
            PartnerError: the carrier could not be asked.
        """
        event = parse(body)
        if event.status not in PROGRESS:
            event = await self._confirmed(event)
        workflow_id = await self._workflow_id(event.shipment_id) if event.shipment_id else None
        if workflow_id is None:
            log.info("tracking_event_without_order", tracker=event.tracker_id)
            return ""
        update = TrackingUpdate(
            event_id=event.event_id,
            tracking_code=event.tracking_code,
            status=event.status.value,
            occurred_at=event.occurred_at or datetime.now(UTC),
            description=event.message or event.status_detail or "",
        )
        handle = self._client.get_workflow_handle(workflow_id, result_type=OrderResult)
        try:
            await handle.signal(OrderWorkflow.tracking_update, update)
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            # The order already completed: a late or repeated event has nowhere to go.
            log.info("tracking_event_for_closed_order", workflow_id=workflow_id)
            return ""
        log.info("tracking_signalled", workflow_id=workflow_id, status=event.status)
        return workflow_id

    async def _confirmed(self, event: TrackerEvent) -> TrackerEvent:
        """The event with the tracker's status, latest scan and shipment as the carrier
        reports them now."""
        tracker = await self._carrier.retrieve_tracker(event.tracker_id)
        if tracker.tracking_code != event.tracking_code or (
            event.shipment_id and tracker.shipment_id != event.shipment_id
        ):
            raise UnconfirmedEvent(
                f"event {event.event_id}: tracker {event.tracker_id} is parcel "
                f"{tracker.tracking_code}, not {event.tracking_code}"
            )
        if tracker.status is not event.status:
            log.warning(
                "tracking_event_contradicted",
                event_id=event.event_id,
                tracker=tracker.id,
                claimed=event.status,
                carrier=tracker.status,
            )
        return _as_reread(event, tracker)


def _as_reread(event: TrackerEvent, tracker: Tracker) -> TrackerEvent:
    latest = tracker.latest
    return event.model_copy(
        update={
            "shipment_id": tracker.shipment_id,
            "status": tracker.status,
            "status_detail": tracker.status_detail,
            "message": latest.message if latest else None,
            "occurred_at": latest.occurred_at if latest else None,
        }
    )
