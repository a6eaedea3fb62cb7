"""Sandbox controls that force what a parcel goes through (tests and demos), and the
scenario a newly bought label follows."""

from __future__ import annotations

from random import Random
from typing import Any

from crossdock.sandbox.core.store import Table
from crossdock.sandbox.easypost.scenarios import JOURNEYS, Scenario, draw_scenario, fits
from crossdock.sandbox.easypost.shapes import InvalidRequest, Json, field_error
from crossdock.sandbox.easypost.shipments import Shipment, ShipmentBook
from crossdock.sandbox.easypost.validation import scenario_field


class ScenarioControls(ShipmentBook):
    """Scenarios forced per shipment or per shipment reference (a part of `Carrier`)."""

    scenario_random: Random
    # Scenarios waiting for the next label bought under a shipment reference.
    scenario_by_reference: Table[Scenario]

    def _scenario_for(self, shipment: Shipment) -> Scenario:
        """Forced on the shipment, else waiting under its reference (used up by this
        label, so a re-bought label goes its own way), else drawn at the configured rates.
        The draw happens either way, so one forced parcel does not reshuffle the others."""
        drawn = draw_scenario(self.scenario_random, self.ctx.config.tracker_exception_rates)
        waiting = self.scenario_by_reference.pop(shipment.data.get("reference") or "", None)
        return shipment.scenario or waiting or drawn

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
