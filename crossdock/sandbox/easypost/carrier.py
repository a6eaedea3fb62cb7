"""The carrier in EasyPost's shape: shipments with customs info, rates, labels, trackers.

    POST /easypost/v2/shipments              create a shipment and rate it
    POST /easypost/v2/shipments/{id}/buy     buy a rate: label, tracking code, tracker
    POST /easypost/v2/shipments/{id}/refund  void an unused label
    GET  /easypost/v2/shipments/{id}         GET /easypost/v2/trackers/{id}
    POST /easypost/v2/addresses              create an address; verify it with `verify`
                                             or `verify_strict` (delivery verification)
    POST /easypost/v2/addresses/create_and_verify   create, verify, refuse if undeliverable
    GET  /easypost/v2/addresses/{id}
    POST /easypost/v2/claims                 GET /easypost/v2/claims/{id}   (claims.py)

    POST /easypost/_sandbox/shipments/{id}/scenario   {"scenario": "lost"}: force what the
    GET  /easypost/_sandbox/shipments/{id}/scenario   parcel goes through (sandbox only)
    POST /easypost/_sandbox/scenarios        {"reference", "scenario"}: for the next label
                                             bought under that shipment reference

JSON bodies wrapped as EasyPost does (`{"shipment": {...}}`), the API key as HTTP Basic
username (or a Bearer token, as the official SDK sends it), errors as
`{"error": {"code", "message", "errors"}}`. Parcel weights are ounces, customs values and
rates are decimal strings. Bought parcels then move on their own, one tracking scan per
`tracking_step_seconds` (longer where a scan holds them), following the scenario drawn
for them (normal delivery, or a delay, customs hold, loss, return or address problem:
see `scenarios.py`; `options.sandbox_scenario` on the shipment forces one), and
every change is pushed to `carrier_webhook_url` as an EasyPost Event, at least once and
sometimes twice, as real webhooks are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.core.webhooks import Outbox
from crossdock.sandbox.easypost.addresses import AddressBook
from crossdock.sandbox.easypost.claims import ClaimDesk
from crossdock.sandbox.easypost.labels import Labels
from crossdock.sandbox.easypost.rates import (
    address_object,
    customs_object,
    parcel_object,
    quote_rates,
)
from crossdock.sandbox.easypost.scenarios import Scenario
from crossdock.sandbox.easypost.shapes import PARTNER, Json, new_id, timestamp
from crossdock.sandbox.easypost.shipments import Shipment, insured_amount
from crossdock.sandbox.easypost.tracking import Tracker
from crossdock.sandbox.easypost.validation import option_scenario, validate_shipment

# Re-exported: callers and tests know them as the carrier's.
__all__ = ["Carrier", "Shipment", "insured_amount"]

log = structlog.get_logger(__name__)


class Carrier(AddressBook, Labels):
    """EasyPost shipments and trackers in memory; pushes tracker Events to a webhook."""

    def __init__(
        self,
        ctx: SandboxContext,
        *,
        duplicate_rate: float = 0.05,
        retry_initial: float = 1.0,
        retry_max: float = 300.0,
        retry_window: float = 3 * 24 * 3600.0,
    ) -> None:
        self.ctx = ctx
        self.shipments: Table[Shipment] = ctx.store.table(PARTNER, "shipment", Shipment)
        self.trackers: Table[Tracker] = ctx.store.table(PARTNER, "tracker", Tracker)
        # Events not yet handed to delivery: in memory only (docs/sandbox.md).
        self.outbox: list[Json] = []
        self.addresses: Table[Json] = ctx.store.table(PARTNER, "address", Json)
        self.duplicate_rate = duplicate_rate
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.retry_window = retry_window
        # Seeded, so a run's duplicated deliveries are reproducible.
        self.random = ctx.store.random(ctx.config.seed)
        # Its own stream, so drawing scenarios does not shift the duplicates' draws.
        self.scenario_random = ctx.store.random(f"tracker-scenarios:{ctx.config.seed}")
        # Scenarios waiting for the next label bought under a shipment reference.
        self.scenario_by_reference: Table[Scenario] = ctx.store.table(
            PARTNER, "scenario_by_reference", Scenario
        )
        self.claims = ClaimDesk(self)
        self.webhooks = Outbox(ctx, PARTNER, self.event_headers, self._backoff())

    # -- API operations --

    def create_shipment(self, body: Any) -> Json:
        request = validate_shipment(body)
        forced = option_scenario(request)
        now = datetime.now(UTC)
        shipment_id = new_id("shp")
        origin, destination = request["from_address"], request["to_address"]
        rates = quote_rates(
            shipment_id,
            origin["country"],
            destination["country"],
            Decimal(str(request["parcel"]["weight"])),
        )
        info = request.get("customs_info")
        data = {
            "id": shipment_id,
            "object": "Shipment",
            "mode": "test",
            "reference": request.get("reference"),
            "status": "unknown",
            "tracking_code": None,
            "to_address": address_object(destination, now),
            "from_address": address_object(origin, now),
            "return_address": address_object(origin, now),
            "buyer_address": address_object(destination, now),
            "parcel": parcel_object(request["parcel"], now),
            "customs_info": customs_object(info, now) if info else None,
            "options": request.get("options") or {},
            "is_return": bool(request.get("is_return", False)),
            "rates": rates,
            "selected_rate": None,
            "postage_label": None,
            "tracker": None,
            "refund_status": None,
            "insurance": None,
            "messages": [],
            "fees": [],
            "forms": [],
            "created_at": timestamp(now),
            "updated_at": timestamp(now),
        }
        self.shipments[shipment_id] = Shipment(
            data=data, rate_ids={r["id"] for r in rates}, scenario=forced
        )
        return self.render(shipment_id)
