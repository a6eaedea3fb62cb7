"""The bench's baseline copies a real order's shape, and its figures report medians and
ratios (bench/baseline.py, bench/figures.py); no figure is measured here."""

from __future__ import annotations

import json
from pathlib import Path

from bench.baseline import ACTIVITY, CANCEL_TIMER, SIGNAL, TIMER, shape_of
from bench.figures import Figures, percentile
from bench.throughput import billable_actions, patches

HISTORIES = Path(__file__).parents[1] / "histories"


def events(name: str) -> list[dict[str, object]]:
    history: dict[str, list[dict[str, object]]] = json.loads((HISTORIES / name).read_text())
    return history["events"]


def test_the_shape_counts_what_the_order_did_and_keeps_timer_durations() -> None:
    shape = shape_of(events("order-storefront-SF56936655.json"))
    assert shape.counts() == {
        "activity": 6,
        "local_activity": 0,
        "timer": 1,
        "signal": 4,
        "update": 0,
    }
    assert [s.seconds for s in shape.steps if s.kind == TIMER] == [60.0]
    kinds = [s.kind for s in shape.steps]
    assert kinds.index(SIGNAL) > kinds.index(ACTIVITY), "signals where the order got them"


def test_a_cancelled_timer_is_started_then_cancelled_by_id() -> None:
    history = [
        {"eventType": "EVENT_TYPE_TIMER_STARTED",
         "timerStartedEventAttributes": {"timerId": "7", "startToFireTimeout": "3600s"}},
        {"eventType": "EVENT_TYPE_MARKER_RECORDED",
         "markerRecordedEventAttributes": {"markerName": "core_patch"}},
        {"eventType": "EVENT_TYPE_TIMER_CANCELED",
         "timerCanceledEventAttributes": {"timerId": "7"}},
    ]  # fmt: skip
    shape = shape_of(history)
    assert [(s.kind, s.timer) for s in shape.steps] == [(TIMER, "7"), (CANCEL_TIMER, "7")]
    assert shape.counts()["local_activity"] == 0, "a patch marker is no local activity"


def test_billable_actions_count_local_activities_once_per_workflow_task() -> None:
    local = {
        "eventType": "EVENT_TYPE_MARKER_RECORDED",
        "markerRecordedEventAttributes": {"markerName": "core_local_activity"},
    }
    task = {"eventType": "EVENT_TYPE_WORKFLOW_TASK_COMPLETED"}
    started = {"eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"}
    assert billable_actions([started, task, local, local, task, local]) == 1 + 2


def test_figures_give_median_spread_and_ratio_to_their_baseline() -> None:
    figures = Figures()
    for value in (10.0, 12.0, 11.0):
        figures.add("base", value, "x/s")
    for value in (8.0, 9.0, 10.0):
        figures.add("ours", value, "x/s", baseline="base")
    shown = figures.as_json()
    assert shown["ours"]["median"] == 9.0
    assert shown["ours"]["ratio"] == round(9 / 11, 3)
    assert shown["base"]["spread"] == round(2 / 11, 3)
    assert percentile([float(v) for v in range(1, 101)], 99) == 99.0


def test_patch_markers_are_named_by_their_ids() -> None:
    history = events("order-storefront-reviewed-approved.json")
    assert patches(history) == ["ship-by-watch", "screening", "carrier-exceptions"]
