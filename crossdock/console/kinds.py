"""The three kinds of case the console shows, and how each maps onto Temporal: workflow
type, status query model, and the updates operators may send."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from crossdock.models.dispute_status import DisputeStatus
from crossdock.models.order_status import OrderStatus
from crossdock.models.return_status import ReturnStatus
from workflows.dispute import DisputeWorkflow
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow


class CaseKind(StrEnum):
    ORDER = "order"
    RETURN = "return"
    DISPUTE = "dispute"


@dataclass(frozen=True)
class KindSpec:
    kind: CaseKind
    # The list's URL segment and the CLI's sub-command: orders, returns, disputes.
    plural: str
    workflow_type: str
    status_type: type[BaseModel]
    status_query: Any
    # Operator actions (console name → the workflow's update method).
    updates: dict[str, Any]


SPECS = {
    CaseKind.ORDER: KindSpec(
        CaseKind.ORDER,
        "orders",
        "OrderWorkflow",
        OrderStatus,
        OrderWorkflow.status,
        {
            "decide": OrderWorkflow.decide,
            "cancel": OrderWorkflow.cancel,
            "hold": OrderWorkflow.hold,
            "resume": OrderWorkflow.resume,
            "address": OrderWorkflow.correct_address,
        },
    ),
    CaseKind.RETURN: KindSpec(
        CaseKind.RETURN,
        "returns",
        "ReturnWorkflow",
        ReturnStatus,
        ReturnWorkflow.status,
        {"decide": ReturnWorkflow.decide, "inspect": ReturnWorkflow.inspect},
    ),
    CaseKind.DISPUTE: KindSpec(
        CaseKind.DISPUTE,
        "disputes",
        "DisputeWorkflow",
        DisputeStatus,
        DisputeWorkflow.status,
        {"decide": DisputeWorkflow.decide, "evidence": DisputeWorkflow.edit_evidence},
    ),
}
BY_TYPE = {spec.workflow_type: spec for spec in SPECS.values()}
BY_PLURAL = {spec.plural: spec for spec in SPECS.values()}


def spec_for_id(workflow_id: str) -> KindSpec | None:
    """The kind a workflow id names (order-..., return-..., dispute-...), if any."""
    prefix = workflow_id.partition("-")[0]
    return next((s for s in SPECS.values() if s.kind.value == prefix), None)
