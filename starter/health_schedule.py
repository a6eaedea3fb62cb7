"""The Temporal Schedule of the hourly health check (workflows/health.py): made once by
whichever intake starts first, left as it is after that (an operator may pause it)."""

from __future__ import annotations

from datetime import timedelta

import structlog
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from crossdock.config import Settings
from crossdock.models.health import HEALTH_SCHEDULE_ID, HEALTH_WORKFLOW_ID, HealthCheckInput

log = structlog.get_logger(__name__)
EVERY = timedelta(hours=1)


def health_schedule(task_queue: str, every: timedelta = EVERY) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "HealthCheckWorkflow",
            HealthCheckInput(),
            id=HEALTH_WORKFLOW_ID,
            task_queue=task_queue,
            execution_timeout=timedelta(minutes=30),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        # A check still running when the next is due: skip that one.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_health_schedule(client: Client, settings: Settings) -> None:
    """Create the hourly schedule unless it exists."""
    try:
        await client.create_schedule(HEALTH_SCHEDULE_ID, health_schedule(settings.task_queue))
        log.info("health_schedule_created", every_seconds=EVERY.total_seconds())
    except ScheduleAlreadyRunningError:
        pass
