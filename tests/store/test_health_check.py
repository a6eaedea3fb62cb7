"""The hourly health check: its Temporal Schedule (made once, triggered here) runs the
check workflow, which raises a pre-breach alert the console's inbox shows; a later check
with the figure back under its level clears it. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from temporalio.client import ScheduleIntervalSpec
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.readmodel import HealthActivities
from crossdock.binaries import installed_binary
from crossdock.config import Settings
from crossdock.models.health import HEALTH_SCHEDULE_ID
from crossdock.readmodel.alerts import HealthAlerts
from crossdock.readmodel.store import ReadModelStore
from crossdock.store import Database
from crossdock.workflow_sandbox import RUNNER
from starter.health_schedule import ensure_health_schedule
from tests.store.readmodel_seed import order_row
from workflows.health import HealthCheckWorkflow
from workflows.search import ALL as SEARCH_ATTRIBUTES


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    try:
        yield env
    finally:
        await env.shutdown()


def shipments(db: Database, now: datetime, late: int, seq: int = 1) -> None:
    """30 Amazon orders due to ship in the last 10 days, `late` of them shipped late
    (written again with a higher `seq` to change them)."""
    store = ReadModelStore(db)
    for n in range(30):
        placed = now - timedelta(days=5)
        shipped = placed + timedelta(days=3 if n < late else 1)
        store.write(
            [
                order_row(
                    f"order-amazon-L{n}",
                    "amazon",
                    placed_at=placed,
                    shipped_at=shipped,
                    seq=seq,
                )
            ]
        )


def test_an_alert_is_raised_updated_and_cleared(db: Database) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    alerts = HealthAlerts(db)
    shipments(db, now, late=1)
    opened = {(a.metric, a.destination): a.level for a in alerts.check(now)}
    # 1 of 30 late is 3.3 %: past the 3 % warning, under the 4 % limit; overall and for DE.
    assert opened[("amazon_lsr_10", "")] == "warning"
    assert opened[("amazon_lsr_10", "DE")] == "warning"
    shipments(db, now, late=2, seq=2)
    assert {a.level for a in alerts.check(now) if a.metric == "amazon_lsr_10"} == {"breach"}
    shipments(db, now, late=0, seq=3)  # the same orders, now all on time
    assert [a for a in alerts.check(now) if a.metric.startswith("amazon_lsr")] == []


async def test_the_schedule_runs_the_check_and_the_alert_opens(
    dev_env: WorkflowEnvironment, task_queue: str, db: Database, tmp_path: object
) -> None:
    settings = Settings(task_queue=task_queue, codec_keys=SecretStr("k1:" + "A" * 43 + "="))
    await ensure_health_schedule(dev_env.client, settings)
    await ensure_health_schedule(dev_env.client, settings)  # a second intake: no error
    handle = dev_env.client.get_schedule_handle(HEALTH_SCHEDULE_ID)
    described = await handle.describe()
    assert described.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(hours=1))]
    shipments(db, datetime.now(UTC), late=1)
    async with Worker(
        dev_env.client,
        task_queue=task_queue,
        workflows=[HealthCheckWorkflow],
        activities=[HealthActivities(HealthAlerts(db)).check_health],
        workflow_runner=RUNNER,
    ):
        await handle.trigger()
        for _ in range(120):
            if any(a.metric == "amazon_lsr_10" for a in HealthAlerts(db).open()):
                break
            await asyncio.sleep(0.25)
    await handle.delete()
    levels = {(a.metric, a.destination): a.level for a in HealthAlerts(db).open()}
    assert levels[("amazon_lsr_10", "")] == "warning"
