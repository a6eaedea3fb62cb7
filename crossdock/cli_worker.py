"""`crossdock worker`: run `worker.py` with its tuning knobs on the command line.

Each option sets the `CROSSDOCK_WORKER_*` setting of the same name for this process
(crossdock/worker_options.py); unset, the environment's value or the SDK's default
holds. docs/production.md says how the defaults were sized.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Annotated

import typer

# Beside the packages in a source checkout and in the image (Dockerfile).
WORKER = Path(__file__).resolve().parents[1] / "worker.py"
Knob = Annotated[int | None, typer.Option(min=1, show_default=False)]


def worker(
    max_concurrent_workflow_tasks: Knob = None,
    max_concurrent_activities: Knob = None,
    max_cached_workflows: Annotated[int | None, typer.Option(min=0, show_default=False)] = None,
    workflow_task_pollers: Knob = None,
    activity_task_pollers: Knob = None,
    http_port: Annotated[
        int | None, typer.Option(help="Serve /healthz, /readyz, /metrics here.")
    ] = None,
) -> None:
    """Run a worker: every workflow and activity on the task queue (stateless, scale out
    by running more)."""
    knobs = {
        "CROSSDOCK_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": max_concurrent_workflow_tasks,
        "CROSSDOCK_WORKER_MAX_CONCURRENT_ACTIVITIES": max_concurrent_activities,
        "CROSSDOCK_WORKER_MAX_CACHED_WORKFLOWS": max_cached_workflows,
        "CROSSDOCK_WORKER_WORKFLOW_TASK_POLLERS": workflow_task_pollers,
        "CROSSDOCK_WORKER_ACTIVITY_TASK_POLLERS": activity_task_pollers,
        "CROSSDOCK_WORKER_HTTP_PORT": http_port,
    }
    os.environ.update({name: str(value) for name, value in knobs.items() if value is not None})
    if not WORKER.exists():
        raise typer.BadParameter(f"{WORKER} is missing: run from the source checkout or image")
    runpy.run_path(str(WORKER), run_name="__main__")
