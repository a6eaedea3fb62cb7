"""Carrier events that beat their label: the carrier's webhook can reach the order before
the `buy_label` activity's answer does (a slow or retried call, or a signal delivered in
the same workflow task as the activity's result, which the SDK applies first). Such an
event is kept and filed under its parcel once the label is recorded; an order never
waits for (or presumes lost) a parcel whose scans it already received
(time-skipping server, stand-in partners).

Chaos run (docs/chaos.md, issue 17): a two-package order's first parcel was scanned in
transit and delivered while its label was being recorded; the events were filed as a
single-parcel order's, the parcel kept no scan, and the order waited for an "in transit"
it had already heard (or, with the no-scan watch, claimed a delivered parcel lost).
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import TrackingUpdate
from tests.conftest import skip_time
from tests.factories import NOW, order
from tests.workflows.order_harness import OrderHandle, start, wait_for_state, worker
from tests.workflows.stand_ins import Partners
from tests.workflows.test_order_packages import POLICY, heavy_order
from tests.workflows.test_order_parcel import (
    CLOCKS,
    SILENT_PAST_LOST,
    decide,
    lose_parcel,
    scan,
    signal,
)
from workflows.order import OrderWorkflow
from workflows.order_packages import EARLY_EVENTS

# Set to a directory to save the histories of these runs (tests/histories/README.md).
RECORD = os.environ.get("CROSSDOCK_RECORD_HISTORIES", "")
# Long enough for the workflow to take the signals in while the label is being bought.
SETTLE = 0.3


def scans_during_label(
    partners: Partners, handle: list[OrderHandle], by_label: dict[int, list[TrackingUpdate]]
) -> None:
    """While the n-th `buy_label` runs (before its answer), send the scans of
    `by_label[n]`."""

    async def send() -> None:
        updates = by_label.get(partners.names().count("buy_label"), [])
        if updates:
            await signal(handle[0], *updates)
            await asyncio.sleep(SETTLE)

    partners.during_label = send


async def test_scans_before_the_labels_are_filed_under_their_parcels(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Package 1 travels and arrives while the labels are bought, package 2 is scanned
    while its own label is: the order is delivered when package 2 is, no parcel lost."""
    partners = Partners()
    handle: list[OrderHandle] = []
    scans_during_label(
        partners,
        handle,
        {
            1: [scan(1, "in_transit", parcel=1), scan(2, "delivered", parcel=1)],
            2: [scan(1, "in_transit", parcel=2)],
        },
    )
    async with worker(time_env, task_queue, partners):
        handle.append(await start(time_env, task_queue, heavy_order("SF17000001"), **POLICY))
        await wait_for_state(handle[0], OrderState.IN_TRANSIT)  # every parcel has moved
        await signal(handle[0], scan(2, "delivered", parcel=2))
        await wait_for_state(handle[0], OrderState.DELIVERED)
        status = await handle[0].query(OrderWorkflow.status)
        result = await handle[0].result()
        if RECORD:
            history = await handle[0].fetch_history()
            path = Path(RECORD, "order-storefront-two-packages-scanned-before-labels.json")
            path.write_text(history.to_json())  # noqa: ASYNC240
    assert result.state == OrderState.COMPLETED
    assert [(p.outcome, p.events_seen) for p in status.parcels] == [
        ("delivered", ["evt_1_1", "evt_1_2"]),
        ("delivered", ["evt_2_1", "evt_2_2"]),
    ]
    assert status.early_tracking == []
    assert "file_carrier_claim" not in partners.names()


async def test_a_reshipped_parcel_scanned_before_its_label_is_recorded_is_delivered(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """One parcel: lost, reshipped, and the new parcel's scans arrive while its label is
    bought. They used to be dropped as another parcel's, and the new parcel presumed
    lost in turn."""
    partners = Partners()
    handle: list[OrderHandle] = []
    scans_during_label(
        partners, handle, {2: [scan(1, "in_transit", parcel=2), scan(2, "delivered", parcel=2)]}
    )
    o = order(channel_order_id="SF17000002", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle.append(await start(time_env, task_queue, o, **CLOCKS))
        await lose_parcel(time_env, handle[0])
        await handle[0].execute_update(OrderWorkflow.decide, decide("reship"))
        await wait_for_state(handle[0], OrderState.DELIVERED)
        result = await handle[0].result()
    assert result.state == OrderState.COMPLETED
    assert partners.names().count("file_carrier_claim") == 1  # the first parcel's only


async def test_events_kept_for_unknown_parcels_are_bounded_and_a_silent_parcel_is_lost(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """A flood of scans for parcels that never become the order's: the order keeps the
    latest few, and its own labelled parcels, never scanned, are still presumed lost."""
    partners = Partners()
    handle: list[OrderHandle] = []
    foreign = [scan(n, "in_transit", parcel=9) for n in range(3 * EARLY_EVENTS)]
    scans_during_label(partners, handle, {1: foreign})
    async with worker(time_env, task_queue, partners):
        handle.append(await start(time_env, task_queue, heavy_order("SF17000003"), **POLICY))
        await wait_for_state(handle[0], OrderState.PAYMENT_CAPTURED)
        status = await handle[0].query(OrderWorkflow.status)
        assert [u.event_id for u in status.early_tracking] == [
            u.event_id for u in foreign[-EARLY_EVENTS:]
        ]
        await skip_time(time_env, SILENT_PAST_LOST)
        await wait_for_state(handle[0], OrderState.EXCEPTION)
        await handle[0].terminate("test over")
    claim = next(call for name, call in partners.calls if name == "file_carrier_claim")
    assert claim.tracking_code == "EZ1000000001"
