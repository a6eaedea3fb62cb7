"""Stand-ins for the read model's local activities: they keep what each workflow
projected, so workflow tests need no database (tests/store/test_readmodel*.py use one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity

from crossdock.models.readmodel import (
    ProjectCaseInput,
    ProjectDisputeInput,
    ProjectionReceipt,
    ProjectOrderInput,
    ProjectReturnInput,
)


@dataclass
class Projections:
    """Every projection received, by workflow id, in the order they came."""

    seen: dict[str, list[Any]] = field(default_factory=dict)

    def _keep(self, workflow_id: str, seq: int, item: Any) -> ProjectionReceipt:
        self.seen.setdefault(workflow_id, []).append(item)
        return ProjectionReceipt(written=True, stored_seq=seq)

    def activities(self) -> list[Callable[..., Any]]:
        return [self.project_order, self.project_return, self.project_dispute, self.project_case]

    @activity.defn(name="project_order")
    async def project_order(self, input: ProjectOrderInput) -> ProjectionReceipt:
        return self._keep(input.workflow_id, input.seq, input)

    @activity.defn(name="project_return")
    async def project_return(self, input: ProjectReturnInput) -> ProjectionReceipt:
        return self._keep(input.workflow_id, input.seq, input)

    @activity.defn(name="project_dispute")
    async def project_dispute(self, input: ProjectDisputeInput) -> ProjectionReceipt:
        return self._keep(input.workflow_id, input.seq, input)

    @activity.defn(name="project_case")
    async def project_case(self, input: ProjectCaseInput) -> ProjectionReceipt:
        return self._keep(input.workflow_id, input.seq, input)
