"""Carrier tracking webhooks → `tracking_update` signals on the right order workflow.

An EasyPost tracker event names its shipment, not our order; the shipment's `reference`
is the order workflow id we set when buying the label. The mapping is cached, since a
parcel produces several events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from crossdock.models.order_steps import OrderResult, TrackingUpdate
from crossdock.partners.carrier import CarrierClient, parse_tracker_event
from workflows.order import OrderWorkflow

log = structlog.get_logger(__name__)


# Workflows whose shipments carry their id as the reference: orders (outbound parcels)
# and returns (return labels). Both take the same `tracking_update` signal.
TRACKED = ("order-", "return-")


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

        Raises `NotATrackerEvent` for a body that is no tracker event at all.
        """
        event = parse_tracker_event(body)
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
