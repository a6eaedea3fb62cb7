"""Workflow modules re-imported by the sandbox run code compiled once per process."""

from __future__ import annotations

import sys

import temporalio.workflow

from crossdock.workflow_sandbox import RUNNER, _CompiledOnce, compile_workflows_once
from workflows.order import OrderWorkflow


async def test_a_sandboxed_run_executes_cached_code_for_workflow_modules() -> None:
    compile_workflows_once()
    compile_workflows_once()  # installed once, however often called
    finders = [f for f in sys.meta_path if type(f).__name__ == "_CompiledOnceFinder"]
    assert len(finders) == 1
    definition = temporalio.workflow._Definition.must_from_class(OrderWorkflow)
    RUNNER.prepare_workflow(definition)  # validates by running it in a fresh sandbox
    compiled = dict(_CompiledOnce.compiled)
    assert any(path.endswith("workflows/order.py") for path in compiled)
    RUNNER.prepare_workflow(definition)
    assert _CompiledOnce.compiled == compiled, "a second run compiles nothing new"
