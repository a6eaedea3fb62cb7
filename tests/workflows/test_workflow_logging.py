"""`workflow.logger` records go through our structlog JSON setup from inside the workflow
sandbox. A formatter that imports lazily there fails the workflow task (found under
`make run`, where the worker logs JSON): this proves a workflow that logs completes."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crossdock.logs import configure_logging
from crossdock.workflow_sandbox import RUNNER


@workflow.defn
class LoggingWorkflow:
    @workflow.run
    async def run(self) -> str:
        # A datetime is not JSON: the renderer must cope without importing anything.
        workflow.logger.info("approval_requested", extra={"opened_at": workflow.now()})
        return "logged"


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO")
    try:
        yield stream
    finally:
        root.handlers, root.level = handlers, level


async def test_a_workflow_that_logs_json_completes(
    time_env: WorkflowEnvironment, json_logs: io.StringIO
) -> None:
    task_queue = f"logging-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_env.client, task_queue=task_queue, workflows=[LoggingWorkflow], workflow_runner=RUNNER
    ):
        result = await time_env.client.execute_workflow(
            LoggingWorkflow.run, id=task_queue, task_queue=task_queue
        )
    assert result == "logged"
    line = next(line for line in json_logs.getvalue().splitlines() if "approval_requested" in line)
    assert '"opened_at"' in line and str(datetime.now().year) in line
