"""Every log line an activity writes names the workflow, run and activity it ran for.

Partner clients and activities log with structlog; without this their lines name at
most the workflow id they were handed. Bound as context variables for the length of
each activity attempt, the ids reach every line it writes, whichever module writes
it, so one `workflow_run_id` finds everything a run did across all worker replicas.
"""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor


class ActivityLogContext(Interceptor):
    """Worker interceptor binding Temporal's ids to structlog's context per activity."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Bound(next)


class _Bound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        # One field, as the SDK's own `activity.logger` records carry it: a line's own
        # `workflow_id` (an order an intake activity started) does not overwrite it.
        ids = {
            "activity_id": info.activity_id,
            "activity_type": info.activity_type,
            "attempt": info.attempt,
            "workflow_id": info.workflow_id,
            "workflow_run_id": info.workflow_run_id,
            "workflow_type": info.workflow_type,
        }
        with structlog.contextvars.bound_contextvars(temporal_activity=ids):
            return await self.next.execute_activity(input)
