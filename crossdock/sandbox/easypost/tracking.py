"""Bought parcels moving scan by scan, and their Events pushed to the webhook."""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.core.webhooks import Backoff, Outbox
from crossdock.sandbox.easypost.rates import tracking_detail
from crossdock.sandbox.easypost.scenarios import JOURNEYS, Scan, Scenario
from crossdock.sandbox.easypost.shapes import Json, dated, sign, timestamp


@dataclass
class Tracker:
    """A bought parcel's tracker and where it is in its journey."""

    data: Json
    origin: Json  # the from address, where the first scans happen
    destination: Json
    last_step_at: datetime
    scenario: Scenario = Scenario.NORMAL
    step: int = 0  # index of the latest scan in the scenario's journey
    active: bool = True  # False once the label is refunded

    @property
    def journey(self) -> tuple[Scan, ...]:
        return JOURNEYS[self.scenario]

    @property
    def finished(self) -> bool:
        """No scan is left: delivered, returned, failed, or lost in silence."""
        return self.step >= len(self.journey) - 1

    def due(self, now: datetime, step_length: timedelta) -> bool:
        """Whether the next scan is due: the latest one's hold has passed."""
        waited = now - self.last_step_at
        return self.active and not self.finished and waited >= step_length * self.current.hold

    @property
    def current(self) -> Scan:
        return self.journey[self.step]

    def scans_made(self) -> list[tuple[str, str]]:
        return [(scan.status, scan.status_detail) for scan in self.journey[: self.step + 1]]


class Tracking:
    """The carrier's moving parcels and webhook delivery (a part of `Carrier`)."""

    ctx: SandboxContext
    trackers: Table[Tracker]
    outbox: list[Json]
    webhooks: Outbox
    random: Random
    duplicate_rate: float
    retry_initial: float
    retry_max: float
    retry_window: float

    def advance(self, now: datetime) -> list[Json]:
        """Move every due tracker one scan on; return (and queue) the resulting Events.

        A tracker is due once `tracking_step_seconds` times its latest scan's hold have
        passed since that scan; refunded labels and parcels at the end of their journey
        (delivered, returned, failed, or lost in silence) stay where they are.
        """
        step = timedelta(seconds=self.ctx.config.tracking_step_seconds)
        # Scanning with peek() and touching only the trackers that move keeps the
        # store's per-second work proportional to what changed.
        with self.ctx.store.unit():
            due = [t.data["id"] for t in self.trackers.peek() if t.due(now, step)]
            events = [self._step(self.trackers[tracker_id], now) for tracker_id in due]
        self.outbox.extend(events)
        return events

    def _step(self, tracker: Tracker, now: datetime) -> Json:
        previous = tracker.data["status"]
        tracker.step += 1
        tracker.last_step_at = now
        scan = tracker.current
        where = tracker.destination if scan.at_destination else tracker.origin
        carrier = tracker.data["carrier"]
        tracker.data["tracking_details"].append(tracking_detail(scan, carrier, where, now))
        tracker.data.update(
            status=scan.status, status_detail=scan.status_detail, updated_at=timestamp(now)
        )
        if scan.status == "delivered":
            tracker.data["signed_by"] = "SANDBOX RECIPIENT"
        return self._event("tracker.updated", tracker.data, {"status": previous}, now)

    def _event(self, description: str, tracker: Json, previous: Json | None, now: datetime) -> Json:
        url = self.ctx.config.carrier_webhook_url
        fields = {
            "description": description,
            "status": "pending",
            "previous_attributes": previous or {},
            # A snapshot: later steps must not change an Event already queued.
            "result": copy.deepcopy(tracker),
            "pending_urls": [url] if url else [],
            "completed_urls": [],
        }
        return dated("evt", "Event", now, fields)

    # -- webhook delivery (crossdock.sandbox.core.webhooks) --

    def event_headers(self, body: bytes) -> dict[str, str]:
        """The headers of one delivery attempt of the Event `body`, signed as EasyPost signs."""
        headers = {"User-Agent": "EasyPost WebHook Agent 1.0"}
        if self.ctx.config.carrier_webhook_secret:
            headers |= sign(body, self.ctx.config.carrier_webhook_secret)
        return headers

    def _backoff(self) -> Backoff:
        return Backoff(self.retry_initial, self.retry_max, self.retry_window)

    def dispatch(self) -> list[asyncio.Task[bool]]:
        """Start delivering every queued Event (some twice); the tasks run independently."""
        events, self.outbox = self.outbox, []
        url = self.ctx.config.carrier_webhook_url
        if not url:
            return []
        self.webhooks.backoff = self._backoff()
        tasks: list[asyncio.Task[bool]] = []
        for event in events:
            copies = 2 if self.random.random() < self.duplicate_rate else 1
            tasks += self.webhooks.send(url, json.dumps(event).encode(), event["id"], copies=copies)
        return tasks

    async def deliver(self, event: Json) -> bool:
        """POST one Event until the receiver answers 2xx, backing off exponentially.

        Gives up (and logs it) only after `retry_window` seconds, as EasyPost keeps
        retrying a failing webhook for days.
        """
        url = self.ctx.config.carrier_webhook_url
        if not url:
            return False
        self.webhooks.backoff = self._backoff()
        return await self.webhooks.deliver(url, json.dumps(event).encode(), event["id"])

    async def run(self) -> None:
        """The background job: advance trackers and dispatch their Events, forever."""
        poll = min(1.0, max(0.05, self.ctx.config.tracking_step_seconds / 10))
        try:
            while True:
                self.advance(datetime.now(UTC))
                self.dispatch()
                await asyncio.sleep(poll)
        finally:
            await self.webhooks.aclose()
