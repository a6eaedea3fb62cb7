"""What a bought parcel goes through, as data: the normal journey and the exceptions.

Every scenario is the list of scans its tracker will show, in EasyPost's vocabulary
(`status` plus `status_detail`, from EasyPost's published list: there is no
customs-specific detail, so a customs hold is `in_transit`/`held` with a message naming
customs). A scan's `hold` is how many tracking steps the parcel then sits still, so a
delayed parcel is delivered much later without a flood of events. A journey that ends
before `delivered` ends in silence: the `lost` parcel simply stops being scanned, as lost
parcels do.

    normal            pre_transit → in_transit → out_for_delivery → delivered
    delayed           ... in_transit/arrived_at_facility → weather_delay (3 steps)
                      → delayed (2 steps) → received_at_destination_facility → ... delivered
    customs_hold      ... in_transit/held (3 steps) → received_at_destination_facility → ...
    lost              pre_transit → in_transit → in_transit/arrived_at_facility, then nothing
    return_to_sender  ... out_for_delivery → return_to_sender/refused (2 steps)
                      → return_to_sender/return (back at the origin)
    address_problem   ... out_for_delivery → failure/address_correction (the parcel waits
                      at the depot; a corrected address means a new label)

A tracker's scenario is drawn once, when its label is bought, from
`SandboxConfig.tracker_exception_rates` with the sandbox seed; tests force one instead.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Scenario(StrEnum):
    """The ways a sandbox parcel can go."""

    NORMAL = "normal"
    DELAYED = "delayed"
    CUSTOMS_HOLD = "customs_hold"
    LOST = "lost"
    RETURN_TO_SENDER = "return_to_sender"
    ADDRESS_PROBLEM = "address_problem"


# The scenarios a rate can be set for (the normal journey takes whatever share is left).
EXCEPTIONS = tuple(scenario for scenario in Scenario if scenario is not Scenario.NORMAL)


@dataclass(frozen=True)
class Scan:
    """One tracking detail a parcel will show."""

    status: str
    status_detail: str
    message: str
    at_destination: bool  # scanned where the parcel goes (else where it came from)
    hold: int = 1  # tracking steps until the next scan


_LABEL_CREATED = Scan(
    "pre_transit", "label_created", "Shipping Label Created, Carrier Awaiting Item", False
)
_DEPARTED = Scan("in_transit", "departed_facility", "Departed Origin Facility", False)
_AT_HUB = Scan("in_transit", "arrived_at_facility", "Arrived at Hub Facility", False)
_AT_DESTINATION_FACILITY = Scan(
    "in_transit",
    "received_at_destination_facility",
    "Received at Destination Facility",
    True,
)
_OUT_FOR_DELIVERY = Scan("out_for_delivery", "out_for_delivery", "Out for Delivery", True)
_DELIVERED = Scan("delivered", "arrived_at_destination", "Delivered", True)

JOURNEYS: dict[Scenario, tuple[Scan, ...]] = {
    Scenario.NORMAL: (_LABEL_CREATED, _DEPARTED, _OUT_FOR_DELIVERY, _DELIVERED),
    Scenario.DELAYED: (
        _LABEL_CREATED,
        _DEPARTED,
        _AT_HUB,
        Scan("in_transit", "weather_delay", "Delayed: severe weather at the hub", False, hold=3),
        Scan("in_transit", "delayed", "Delayed in transit: missed connection", False, hold=2),
        _AT_DESTINATION_FACILITY,
        _OUT_FOR_DELIVERY,
        _DELIVERED,
    ),
    Scenario.CUSTOMS_HOLD: (
        _LABEL_CREATED,
        _DEPARTED,
        Scan("in_transit", "held", "Held by customs: clearance in progress", True, hold=3),
        Scan(
            "in_transit",
            "received_at_destination_facility",
            "Released by customs, Received at Destination Facility",
            True,
        ),
        _OUT_FOR_DELIVERY,
        _DELIVERED,
    ),
    Scenario.LOST: (_LABEL_CREATED, _DEPARTED, _AT_HUB),
    Scenario.RETURN_TO_SENDER: (
        _LABEL_CREATED,
        _DEPARTED,
        _OUT_FOR_DELIVERY,
        Scan(
            "return_to_sender",
            "refused",
            "Refused by Recipient, Returning to Sender",
            True,
            hold=2,
        ),
        Scan("return_to_sender", "return", "Returned to Sender: Delivered to Shipper", False),
    ),
    Scenario.ADDRESS_PROBLEM: (
        _LABEL_CREATED,
        _DEPARTED,
        _OUT_FOR_DELIVERY,
        Scan(
            "failure",
            "address_correction",
            "Delivery Failed: Address Not Found, Held at Depot for a Corrected Address",
            True,
        ),
    ),
}


def parse_scenario(value: object, field: str) -> Scenario:
    """`value` as a `Scenario`, or a ValueError naming `field` and the known scenarios."""
    try:
        return Scenario(str(value))
    except ValueError:
        known = ", ".join(scenario.value for scenario in Scenario)
        raise ValueError(f"{field} {value!r} is not a scenario; use one of: {known}") from None


def check_rates(rates: Mapping[str, float]) -> dict[str, float]:
    """The exception rates if they make sense: known scenarios, shares that fit in 1.

    Raises:
        ValueError: naming the scenario or the total that is wrong.
    """
    for name, rate in rates.items():
        if name not in EXCEPTIONS:
            known = ", ".join(EXCEPTIONS)
            raise ValueError(f"tracker_exception_rates has {name!r}; use one of: {known}")
        if not 0 <= rate <= 1:
            raise ValueError(f"tracker_exception_rates[{name!r}] is {rate}; use 0 to 1")
    if sum(rates.values()) > 1:
        raise ValueError(
            f"tracker_exception_rates add up to {sum(rates.values())}; they must total 1 or less"
        )
    return dict(rates)


def draw_scenario(rng: random.Random, rates: Mapping[str, float]) -> Scenario:
    """One parcel's scenario. Always one draw per parcel, whatever the rates, so the
    same seed and purchase order give the same mix."""
    roll = rng.random()
    for scenario in EXCEPTIONS:
        roll -= rates.get(scenario, 0.0)
        if roll < 0:
            return scenario
    return Scenario.NORMAL


def fits(scenario: Scenario, made: list[tuple[str, str]]) -> bool:
    """Whether a parcel whose scans so far are `made` (status, detail) can still follow
    `scenario`: its journey must begin with exactly those scans and go on after them."""
    journey = JOURNEYS[scenario]
    planned = [(scan.status, scan.status_detail) for scan in journey[: len(made)]]
    return planned == made and len(journey) > len(made)
