"""EasyPost shipments as the sandbox holds them, and how they are shown back."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from crossdock.money import Money
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.easypost.scenarios import Scenario
from crossdock.sandbox.easypost.shapes import InvalidRequest, Json, field_error, not_found
from crossdock.sandbox.easypost.tracking import Tracker


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


class ShipmentBook:
    """The shipments and trackers tables, read as EasyPost shows them (a part of `Carrier`)."""

    ctx: SandboxContext
    shipments: Table[Shipment]
    trackers: Table[Tracker]

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
