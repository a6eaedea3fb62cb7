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

import copy
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog

from crossdock.money import Money
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.core.webhooks import Outbox
from crossdock.sandbox.easypost.addresses import AddressBook
from crossdock.sandbox.easypost.claims import ClaimDesk
from crossdock.sandbox.easypost.rates import (
    address_object,
    customs_object,
    parcel_object,
    quote_rates,
    tracking_detail,
)
from crossdock.sandbox.easypost.scenarios import JOURNEYS, Scenario, draw_scenario, fits
from crossdock.sandbox.easypost.shapes import (
    PARTNER,
    EasyPostError,
    InvalidRequest,
    Json,
    dated,
    field_error,
    new_id,
    not_found,
    timestamp,
)
from crossdock.sandbox.easypost.tracking import Tracker, Tracking
from crossdock.sandbox.easypost.validation import option_scenario, scenario_field, validate_shipment

log = structlog.get_logger(__name__)


@dataclass
class Shipment:
    data: Json
    label: Money | None = None
    tracker_id: str | None = None
    refunded: bool = False
    # The rate ids offered, so a buy can only pick one of this shipment's rates.
    rate_ids: set[str] = field(default_factory=set)
    # Forced before the label is bought (options.sandbox_scenario or the admin route).
    scenario: Scenario | None = None


def insured_amount(value: Any) -> Money:
    """An insurance amount: a decimal string of US dollars above zero (EasyPost insures
    in dollars only)."""
    try:
        amount = Money.parse(str(value), "USD")
    except ValueError:
        amount = Money.zero("USD")
    if amount.amount <= 0:
        raise InvalidRequest(
            422,
            "SHIPMENT.INSURANCE.INVALID",
            f'insurance {value!r} must be a US dollar amount above zero, e.g. "100.00".',
            [field_error("insurance", "A decimal string of US dollars.")],
        )
    return amount


class Carrier(AddressBook, Tracking):
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

    def shipment(self, shipment_id: str) -> Shipment:
        found = self.shipments.get(shipment_id)
        if found is None:
            raise not_found("shipment", shipment_id)
        return found

    def render(self, shipment_id: str) -> Json:
        """The shipment as EasyPost shows it, with its tracker as it is now."""
        shipment = self.shipment(shipment_id)
        tracker = self.trackers.get(shipment.tracker_id or "")
        if tracker is None:
            return copy.deepcopy(shipment.data)
        data = copy.deepcopy(shipment.data)
        data["tracker"] = copy.deepcopy(tracker.data)
        data["status"] = tracker.data["status"]
        return data

    def tracker(self, tracker_id: str) -> Json:
        found = self.trackers.get(tracker_id)
        if found is None:
            raise not_found("tracker", tracker_id)
        return copy.deepcopy(found.data)

    def buy(self, shipment_id: str, body: Any, key: str | None) -> Json:
        shipment = self.shipment(shipment_id)
        if shipment.data["postage_label"] is not None:
            raise EasyPostError(
                422,
                "SHIPMENT.POSTAGE.EXISTS",
                f"Postage already exists for shipment {shipment_id}.",
            )
        rate = self._chosen_rate(shipment, body)
        wants_insurance = isinstance(body, dict) and "insurance" in body
        insured = insured_amount(body["insurance"]) if wants_insurance else None
        now = datetime.now(UTC)
        tracking_code = f"EZ{secrets.randbelow(10**14):014d}"
        shipment.label = Money.parse(rate["rate"], rate["currency"])
        shipment.data.update(
            selected_rate=rate,
            tracking_code=tracking_code,
            postage_label=self._postage_label(tracking_code, now),
            updated_at=timestamp(now),
        )
        tracker = self._open_tracker(shipment, tracking_code, rate, now)
        self.ctx.ledger.record(
            PARTNER,
            "label",
            shipment_id,
            idempotency_key=key,
            amount=shipment.label.amount,
            currency=shipment.label.currency,
            shipment_reference=shipment.data["reference"],
            tracking_code=tracking_code,
            carrier=rate["carrier"],
            service=rate["service"],
        )
        self.outbox.append(self._event("tracker.created", tracker.data, None, now))
        if insured is not None:
            self._insure(shipment, insured, key)
        return self.render(shipment_id)

    def insure(self, shipment_id: str, body: Any, key: str | None) -> Json:
        """Insure a bought label for `amount` US dollars (EasyPost's /insure)."""
        shipment = self.shipment(shipment_id)
        if shipment.label is None:
            raise EasyPostError(
                422,
                "SHIPMENT.POSTAGE.REQUIRED",
                f"Shipment {shipment_id} has no postage to insure; buy a rate first.",
            )
        amount = insured_amount(body.get("amount") if isinstance(body, dict) else None)
        self._insure(shipment, amount, key)
        return self.render(shipment_id)

    def _insure(self, shipment: Shipment, amount: Money, key: str | None) -> None:
        shipment.data.update(insurance=amount.to_decimal_string())
        self.ctx.ledger.record(
            PARTNER,
            "insurance",
            shipment.data["id"],
            idempotency_key=key,
            amount=amount.amount,
            currency=amount.currency,
            shipment_reference=shipment.data["reference"],
        )

    def _chosen_rate(self, shipment: Shipment, body: Any) -> Json:
        chosen = body.get("rate") if isinstance(body, dict) else None
        rate_id = chosen.get("id") if isinstance(chosen, dict) else chosen
        if not rate_id:
            raise InvalidRequest(
                422,
                "SHIPMENT.MISSING_RATE",
                'rate is required: send {"rate": {"id": "rate_..."}}.',
                [field_error("rate", "Required and missing.")],
            )
        for rate in shipment.data["rates"]:
            if rate["id"] == rate_id:
                return dict(rate)
        raise InvalidRequest(
            422,
            "SHIPMENT.MISSING_RATE",
            f"rate {rate_id!r} is not one of the rates of shipment {shipment.data['id']}.",
            [field_error("rate.id", "Unknown rate for this shipment.")],
        )

    @staticmethod
    def _postage_label(tracking_code: str, now: datetime) -> Json:
        url = f"https://easypost-files.s3.amazonaws.com/files/postage_label/{tracking_code}.png"
        fields = {
            "label_url": url,
            "label_file_type": "image/png",
            "label_size": "4x6",
            "label_resolution": 300,
            "label_date": timestamp(now),
            "label_pdf_url": None,
            "label_zpl_url": None,
        }
        label = dated("pl", "PostageLabel", now, fields)
        del label["mode"]  # EasyPost's PostageLabel, unlike its other objects, has none
        return label

    def _open_tracker(
        self, shipment: Shipment, tracking_code: str, rate: Json, now: datetime
    ) -> Tracker:
        origin = shipment.data["from_address"]
        scenario = self._scenario_for(shipment)
        first = JOURNEYS[scenario][0]
        fields = {
            "tracking_code": tracking_code,
            "status": first.status,
            "status_detail": first.status_detail,
            "signed_by": None,
            "weight": shipment.data["parcel"]["weight"],
            "est_delivery_date": timestamp(now + timedelta(days=rate["delivery_days"])),
            "shipment_id": shipment.data["id"],
            "carrier": rate["carrier"],
            "tracking_details": [tracking_detail(first, rate["carrier"], origin, now)],
            "carrier_detail": {"object": "CarrierDetail", "service": rate["service"]},
            "fees": [],
        }
        data = dated("trk", "Tracker", now, fields)
        data["public_url"] = f"https://track.easypost.com/{data['id']}"
        destination = shipment.data["to_address"]
        tracker = Tracker(data, origin, destination, last_step_at=now, scenario=scenario)
        self.trackers[data["id"]] = tracker
        shipment.tracker_id = data["id"]
        return tracker

    def _scenario_for(self, shipment: Shipment) -> Scenario:
        """Forced on the shipment, else waiting under its reference (used up by this
        label, so a re-bought label goes its own way), else drawn at the configured rates.
        The draw happens either way, so one forced parcel does not reshuffle the others."""
        drawn = draw_scenario(self.scenario_random, self.ctx.config.tracker_exception_rates)
        waiting = self.scenario_by_reference.pop(shipment.data.get("reference") or "", None)
        return shipment.scenario or waiting or drawn

    # -- sandbox controls (tests and demos force what a parcel goes through) --

    def force_scenario(self, shipment_id: str, body: Any) -> Json:
        """Make a shipment's parcel follow a scenario: before its label is bought, or
        afterwards while the scans it has shown so far fit the scenario's journey."""
        shipment = self.shipment(shipment_id)
        scenario = scenario_field(body)
        tracker = self.trackers.get(shipment.tracker_id or "")
        if tracker is None:
            shipment.scenario = scenario
        elif fits(scenario, tracker.scans_made()):
            tracker.scenario = scenario
        else:
            raise InvalidRequest(
                422,
                "SHIPMENT.SCENARIO.TOO_LATE",
                f"The parcel of shipment {shipment_id} has already been scanned "
                f"{tracker.data['status']}/{tracker.data['status_detail']}, which the "
                f"{scenario.value!r} scenario does not go through at that point.",
                [field_error("scenario", "Force it before the parcel moves on.")],
            )
        return self.scenario_of(shipment_id)

    def scenario_of(self, shipment_id: str) -> Json:
        """The scenario a shipment's parcel follows (or will, once bought), with its scans."""
        shipment = self.shipment(shipment_id)
        tracker = self.trackers.get(shipment.tracker_id or "")
        scenario = tracker.scenario if tracker else shipment.scenario
        journey = JOURNEYS[scenario] if scenario else ()
        return {
            "shipment_id": shipment_id,
            "scenario": scenario.value if scenario else None,
            "tracker_id": tracker.data["id"] if tracker else None,
            "scans": [
                {"status": scan.status, "status_detail": scan.status_detail, "hold": scan.hold}
                for scan in journey
            ],
        }

    def force_scenario_for_reference(self, body: Any) -> Json:
        """Make the next label bought for a shipment `reference` (e.g. an order workflow
        id) follow a scenario: for tests that cannot know the shipment id in advance."""
        reference = body.get("reference") if isinstance(body, dict) else None
        if not isinstance(reference, str) or not reference.strip():
            raise InvalidRequest(
                422,
                "SANDBOX.SCENARIO.INVALID",
                "reference is required: the shipment reference the next label is bought for.",
                [field_error("reference", "Required and missing.")],
            )
        scenario = scenario_field(body)
        self.scenario_by_reference[reference] = scenario
        return {"reference": reference, "scenario": scenario.value}

    def refund(self, shipment_id: str, key: str | None) -> Json:
        shipment = self.shipment(shipment_id)
        tracker = self.trackers.get(shipment.tracker_id or "")
        if shipment.label is None or tracker is None:
            raise EasyPostError(
                422,
                "SHIPMENT.POSTAGE.REQUIRED",
                f"Shipment {shipment_id} has no postage to refund; buy a rate first.",
            )
        if shipment.refunded:
            raise EasyPostError(
                422,
                "SHIPMENT.REFUND.UNAVAILABLE",
                f"A refund was already submitted for shipment {shipment_id} "
                f"(refund_status {shipment.data['refund_status']}).",
            )
        if tracker.step > 0:
            raise EasyPostError(
                422,
                "SHIPMENT.REFUND.UNAVAILABLE",
                f"The label of shipment {shipment_id} was already scanned by the carrier "
                f"(tracker status {tracker.data['status']}) and can no longer be refunded.",
            )
        shipment.refunded = True
        tracker.active = False
        shipment.data.update(refund_status="submitted", updated_at=timestamp(datetime.now(UTC)))
        self.ctx.ledger.record(
            PARTNER,
            "label_refund",
            shipment_id,
            idempotency_key=key,
            amount=shipment.label.amount,
            currency=shipment.label.currency,
            shipment_reference=shipment.data["reference"],
            tracking_code=shipment.data["tracking_code"],
        )
        return self.render(shipment_id)
