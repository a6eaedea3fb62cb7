"""A workflow whose principal-taking update forgot its validator (for the interceptor test)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import Decision


@workflow.defn
class UnguardedWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.update
    def decide(self, decision: Decision) -> str:
        return decision.key
