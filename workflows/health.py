"""HealthCheckWorkflow: the hourly marketplace-health check a Temporal Schedule starts
(starter/health_schedule.py). It recomputes the figures from the read model and raises
or clears the inbox's health alerts; it touches no order, so it never blocks one."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.readmodel import HealthActivities
    from crossdock.models.health import HealthCheckInput, HealthCheckResult


@workflow.defn
class HealthCheckWorkflow:
    @workflow.run
    async def run(self, input: HealthCheckInput) -> HealthCheckResult:
        result = await workflow.execute_activity_method(
            HealthActivities.check_health,
            input,
            start_to_close_timeout=timedelta(minutes=5),
            # The next hour's run checks again: no point retrying past it.
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
        for alert in result.open:
            workflow.logger.info(
                "health_alert", extra={"metric": alert.metric, "level": alert.level}
            )
        return result
