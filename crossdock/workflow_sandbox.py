"""The workflow sandbox every Crossdock worker (and workflow test) runs workflows in.

Our own modules and pydantic are deterministic at import: passing them through the
sandbox instead of re-importing them per workflow run saves most of its cost. structlog
and rich format `workflow.logger` records, in the workflow's thread.

It lives here, not in worker.py, so that a module defining a workflow (a test probe) can
use it without importing every activity and its HTTP clients into the sandbox.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "crossdock", "pydantic", "pydantic_core", "annotated_types", "structlog", "rich"
    )
)
