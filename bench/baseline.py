"""The baseline: a no-op workflow with exactly the shape of a real happy-path order.

`shape_of` reads a real order's history and lists, in order, what the workflow did that
Temporal must carry: activities, local activities, timers (with their durations), the
signals and updates it received. `ShapeWorkflow` does the same steps with empty bodies
and no HTTP, so the difference between the two is what Crossdock itself costs.
Search-attribute upserts are left out on purpose: they are Crossdock's choice, counted
among its extra events (bench/README.md).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

ACTIVITY = "activity"
LOCAL_ACTIVITY = "local_activity"
TIMER = "timer"
SIGNAL = "signal"
UPDATE = "update"
CANCEL_TIMER = "cancel_timer"  # a timer the order started and later cancelled
KINDS = (ACTIVITY, LOCAL_ACTIVITY, TIMER, SIGNAL, UPDATE)
BASELINE_QUEUE = "bench-baseline"

# History event type → the step it records.
EVENT_STEP = {
    "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED": ACTIVITY,
    "EVENT_TYPE_MARKER_RECORDED": LOCAL_ACTIVITY,
    "EVENT_TYPE_TIMER_STARTED": TIMER,
    "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED": SIGNAL,
    "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED": UPDATE,
    "EVENT_TYPE_TIMER_CANCELED": CANCEL_TIMER,
}


@dataclass
class Step:
    kind: str
    seconds: float = 0.0  # a timer's duration
    timer: str = ""  # the id of a timer that is cancelled later


@dataclass
class Shape:
    steps: list[Step] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many steps of each kind."""
        counted = Counter(step.kind for step in self.steps)
        return {kind: counted.get(kind, 0) for kind in KINDS}

    @property
    def signals(self) -> int:
        return self.counts()[SIGNAL]

    @property
    def updates(self) -> int:
        return self.counts()[UPDATE]


def _seconds(duration: str) -> float:
    return float(duration.rstrip("s")) if duration else 0.0


def shape_of(events: list[dict[str, Any]]) -> Shape:
    """The steps of a history given as JSON events (`WorkflowHistory.to_json_dict()`)."""
    cancelled = {
        e["timerCanceledEventAttributes"]["timerId"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_TIMER_CANCELED"
    }
    steps = []
    for event in events:
        kind = EVENT_STEP.get(event["eventType"])
        if (
            kind == LOCAL_ACTIVITY
            and event["markerRecordedEventAttributes"].get("markerName") != "core_local_activity"
        ):
            continue  # a patch or version marker, not a local activity
        if kind == TIMER:
            started = event["timerStartedEventAttributes"]
            timer = started["timerId"] if started["timerId"] in cancelled else ""
            steps.append(Step(kind, _seconds(started["startToFireTimeout"]), timer))
        elif kind == CANCEL_TIMER:
            steps.append(Step(kind, timer=event["timerCanceledEventAttributes"]["timerId"]))
        elif kind is not None:
            steps.append(Step(kind))
    return Shape(steps)


@activity.defn(name="bench_noop")
async def noop() -> None:
    """An activity with an empty body."""


@workflow.defn(name="BenchShape")
class ShapeWorkflow:
    """The shape's steps in order, empty; waits for its signals and updates where the
    order received them."""

    def __init__(self) -> None:
        self.signals = 0
        self.updates = 0
        self.timers: dict[str, asyncio.TimerHandle] = {}

    @workflow.signal(name="bench_signal")
    def signal(self) -> None:
        self.signals += 1

    @workflow.update(name="bench_update")
    def update(self) -> None:
        self.updates += 1

    @workflow.run
    async def run(self, shape: Shape) -> int:
        seen = Counter[str]()
        for step in shape.steps:
            seen[step.kind] += 1
            await self._step(step, seen[step.kind])
        return len(shape.steps)

    async def _step(self, step: Step, nth: int) -> None:
        timeout = timedelta(seconds=30)
        if step.kind == ACTIVITY:
            await workflow.execute_activity(noop, start_to_close_timeout=timeout)
        elif step.kind == LOCAL_ACTIVITY:
            await workflow.execute_local_activity(noop, start_to_close_timeout=timeout)
        elif step.kind == TIMER and step.timer:
            # call_later starts the timer now (a task might be cancelled before it ran,
            # and then no timer would be recorded at all).
            loop = asyncio.get_running_loop()
            self.timers[step.timer] = loop.call_later(step.seconds, lambda: None)
        elif step.kind == TIMER:
            await workflow.sleep(step.seconds)
        elif step.kind == CANCEL_TIMER:
            self.timers.pop(step.timer).cancel()
        elif step.kind == SIGNAL:
            await workflow.wait_condition(lambda: self.signals >= nth)
        elif step.kind == UPDATE:
            await workflow.wait_condition(lambda: self.updates >= nth)
