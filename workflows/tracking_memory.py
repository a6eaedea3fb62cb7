"""How much of a parcel's carrier events a workflow remembers: the latest `SEEN_EVENTS`
event ids, to drop redeliveries. Intake verifies and de-duplicates events first; this is
what keeps a workflow's state bounded whatever arrives (a carrier sending thousands of
scans, or events nobody should have let through). An event older than the memory that
comes again changes nothing a newer one has not: progress only moves forward, and
statuses that move money were re-read from the carrier when they were sent.
"""

from __future__ import annotations

from temporalio import workflow

SEEN_EVENTS = 64
# Histories recorded before the bound remembered every event; they replay unbounded.
PATCH = "bounded-tracking-memory"


def remember(seen: list[str], event_id: str) -> None:
    """Add `event_id` to `seen`, forgetting the oldest past `SEEN_EVENTS`."""
    seen.append(event_id)
    if len(seen) > SEEN_EVENTS and workflow.patched(PATCH):
        del seen[: len(seen) - SEEN_EVENTS]
