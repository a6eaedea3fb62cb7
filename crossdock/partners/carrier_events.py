"""The Events EasyPost pushes to our webhook, read into `TrackerEvent`s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from crossdock.models.shipment import TrackerEvent
from crossdock.partners.carrier_objects import Tracker


class NotATrackerEvent(ValueError):
    """A webhook Event about something other than a tracker (acknowledge and ignore it)."""


def _is_event(value: object) -> object:
    if value != "Event":
        raise ValueError(f"object must be 'Event', got {value!r}")
    return value


class _Event(BaseModel):
    """The envelope of an EasyPost webhook Event; `result` is read by its `object`."""

    object: Annotated[Any, AfterValidator(_is_event)]
    id: Annotated[str, Field(min_length=1, max_length=255)]
    description: str | None = None
    result: Any = None


def parse_tracker_event(body: Mapping[str, Any]) -> TrackerEvent:
    """Read an EasyPost webhook Event about a tracker.

    Args:
        body: the JSON body EasyPost POSTed.

    Returns:
        The update, with the status and time of the tracker's latest scan.

    Raises:
        NotATrackerEvent: a well-formed Event about something else (batch, refund, ...).
        ValueError: not an EasyPost Event, naming the field that is wrong.
    """
    # A ValidationError (a ValueError) naming the field: intake answers it 422.
    envelope = _Event.model_validate(body)
    result = envelope.result
    kind = result.get("object") if isinstance(result, Mapping) else type(result).__name__
    if kind != "Tracker":
        raise NotATrackerEvent(
            f"event {envelope.id} ({envelope.description}) is about a {kind}, not a Tracker"
        )
    tracker = Tracker.model_validate(result)
    latest = tracker.latest
    return TrackerEvent(
        event_id=envelope.id,
        description=envelope.description or "",
        tracker_id=tracker.id,
        shipment_id=tracker.shipment_id,
        tracking_code=tracker.tracking_code,
        carrier=tracker.carrier,
        status=tracker.status,
        status_detail=tracker.status_detail,
        message=latest.message if latest else None,
        occurred_at=latest.occurred_at if latest else None,
    )
