"""Order throughput at saturation, and what each order costs in history and actions.

Each repeat runs the baseline and both order kinds with the same number of workflows
started at once, alternating which goes first so drift in the machine's load falls on
all of them alike.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.baseline import Shape, shape_of
from bench.figures import Figures
from bench.machine import cpu_seconds
from bench.orders import HappyOrders, history_events, run_orders, run_shapes
from bench.stack import BenchStack
from crossdock.models.order import Channel

BASELINE = "baseline same-shape workflows/s"
BASELINE_CPU = "baseline worker CPU/workflow"
KINDS = {
    "storefront": [Channel.STOREFRONT],
    "marketplace": [Channel.AMAZON, Channel.EBAY],
}
# Events that Temporal Cloud bills as an action (one each); local activities count once
# per workflow task that ran any, added separately.
BILLED = {
    "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
    "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED",
    "EVENT_TYPE_TIMER_STARTED",
    "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED",
    "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
    "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
    "EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED",
    "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED",
    "EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
}


@dataclass
class Probe:
    """A real happy-path order per kind: its history, the shape the baseline copies."""

    histories: dict[str, list[dict[str, Any]]]
    shape: Shape


def billable_actions(events: list[dict[str, Any]]) -> int:
    """Actions as Temporal Cloud counts them, approximately (no retries, no heartbeats)."""
    actions = sum(1 for e in events if e["eventType"] in BILLED)
    tasks_with_local, seen_local = 0, False
    for event in events:
        if event["eventType"] == "EVENT_TYPE_WORKFLOW_TASK_COMPLETED":
            seen_local = False
        elif event.get("markerRecordedEventAttributes", {}).get("markerName") == (
            "core_local_activity"
        ):
            tasks_with_local += not seen_local
            seen_local = True
    return actions + tasks_with_local


def patches(events: list[dict[str, Any]]) -> list[str]:
    """The ids of the `workflow.patched` markers in a history (each one event)."""
    found = []
    for event in events:
        marker = event.get("markerRecordedEventAttributes", {})
        if marker.get("markerName") != "core_patch":
            continue
        data = marker.get("details", {}).get("patch-data", {}).get("payloads", [{}])[0]
        try:
            found.append(str(json.loads(base64.b64decode(data.get("data", "")))["id"]))
        except (ValueError, KeyError, TypeError):
            found.append("?")
    return found


def event_types(events: list[dict[str, Any]]) -> dict[str, int]:
    counted = Counter(e["eventType"].removeprefix("EVENT_TYPE_").lower() for e in events)
    return dict(counted.most_common())


async def probe(stack: BenchStack, orders: HappyOrders) -> Probe:
    """One order of each channel to the end (also the warm-up): histories and shape."""
    batch = [orders.next(c) for c in (Channel.STOREFRONT, Channel.AMAZON, Channel.EBAY)]
    _, results = await run_orders(stack, batch)
    unhappy = [(o.workflow_id, r.state) for o, r in zip(batch, results, strict=True)]
    unhappy = [(w, s) for w, s in unhappy if s != "completed"]
    if unhappy:
        raise RuntimeError(f"probe orders did not complete the happy path: {unhappy}")
    histories = {o.channel.value: await history_events(stack.client, o.workflow_id) for o in batch}
    return Probe(histories, shape_of(histories["storefront"]))


async def cost(stack: BenchStack, found: Probe, figures: Figures) -> dict[str, Any]:
    """History events and actions per happy-path order, against the baseline's."""
    _, ids = await run_shapes(stack.plain, found.shape, 1, stack.settings.tracking_step_seconds)
    base = await history_events(stack.plain, ids[0])
    figures.add("baseline history events/order", len(base), "events")
    figures.add("baseline billable actions/order", billable_actions(base), "actions")
    for channel, events in found.histories.items():
        figures.add(
            f"{channel} history events/order",
            len(events),
            "events",
            baseline="baseline history events/order",
            target="<= 1.25x baseline",
        )
        figures.add(
            f"{channel} billable actions/order",
            billable_actions(events),
            "actions",
            baseline="baseline billable actions/order",
        )
    return {
        "shape": found.shape.counts(),
        "baseline_event_types": event_types(base),
        "order_event_types": {c: event_types(e) for c, e in found.histories.items()},
        "order_patches": {c: patches(e) for c, e in found.histories.items()},
    }


async def throughput_round(
    stack: BenchStack, orders: HappyOrders, shape: Shape, n: int, turn: int, figures: Figures
) -> None:
    """One repeat: baseline, storefront and marketplace, `n` workflows each."""
    runs = ["baseline", *KINDS]
    for run in runs[turn % len(runs) :] + runs[: turn % len(runs)]:
        if run == "baseline":
            step = stack.settings.tracking_step_seconds
            cpu = cpu_seconds(stack.baseline.pid)
            seconds, _ = await run_shapes(stack.plain, shape, n, step)
            figures.add(BASELINE, n / seconds, "workflows/s")
            used = cpu_seconds(stack.baseline.pid) - cpu
            figures.add(BASELINE_CPU, used / n * 1000, "ms")
            continue
        cpu = cpu_seconds(stack.worker.pid)
        seconds, results = await run_orders(stack, orders.batch(n, KINDS[run]))
        used = cpu_seconds(stack.worker.pid) - cpu
        done = sum(r.state == "completed" for r in results)
        figures.add(
            f"{run} orders/s (real activities, HTTP)",
            done / seconds,
            "orders/s",
            baseline=BASELINE,
            target=">= 0.8x baseline",
        )
        # CPU per order is what load on the machine changes least.
        figures.add(f"{run} worker CPU/order", used / n * 1000, "ms", baseline=BASELINE_CPU)
