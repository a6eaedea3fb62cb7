"""A stand-in for OrderWorkflow (same name) that records what disputes tell it. Its own
module with few imports, since the workflow sandbox re-imports a workflow's module."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.order_cases import CaseLink, RefundOutcome


@workflow.defn(name="OrderWorkflow")
class OrderStub:
    def __init__(self) -> None:
        self.links: list[CaseLink] = []
        self.settled: list[RefundOutcome] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def link_case(self, link: CaseLink) -> None:
        self.links.append(link)

    @workflow.signal
    def settle_refund(self, outcome: RefundOutcome) -> None:
        self.settled.append(outcome)

    @workflow.query
    def seen(self) -> tuple[list[CaseLink], list[RefundOutcome]]:
        return self.links, self.settled
