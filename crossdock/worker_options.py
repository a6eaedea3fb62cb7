"""The `Worker` keyword arguments Crossdock's settings tune (docs/production.md).

Unset, a knob keeps the SDK's default. Every worker process of a deployment gets the
same values from its environment (`CROSSDOCK_WORKER_*`), so one replica's share of the
load is predictable: total capacity is the per-worker figure times the replicas.
"""

from __future__ import annotations

from typing import Any

from crossdock.config import Settings

# Setting → the SDK's `Worker(...)` keyword.
KNOBS = {
    "worker_max_concurrent_workflow_tasks": "max_concurrent_workflow_tasks",
    "worker_max_concurrent_activities": "max_concurrent_activities",
    "worker_max_cached_workflows": "max_cached_workflows",
    "worker_workflow_task_pollers": "max_concurrent_workflow_task_polls",
    "worker_activity_task_pollers": "max_concurrent_activity_task_polls",
}


def tuning(settings: Settings) -> dict[str, Any]:
    """The configured knobs as `Worker` keyword arguments (only those set)."""
    return {
        keyword: getattr(settings, field)
        for field, keyword in KNOBS.items()
        if getattr(settings, field) is not None
    }
