"""The read model's contracts: what a workflow hands the projection activity.

A projection carries the workflow's whole status at one moment and a sequence number
that only grows (`projection_seq`): the activity writes the rows only when its number is
higher than the stored one, so a retried or replayed write never moves a row backwards.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from crossdock.models.case import CaseStatus
from crossdock.models.dispute_status import DisputeStatus
from crossdock.models.order import Order
from crossdock.models.order_status import OrderStatus
from crossdock.models.return_status import ReturnStatus

# Room for changes between two timeline entries (a tracking status, a parcel scan).
SEQ_STEP = 1000


class ProjectionKind(StrEnum):
    ORDER = "order"
    RETURN = "return"
    DISPUTE = "dispute"
    CASE = "case"


def projection_seq(timeline_length: int, changes_since: int) -> int:
    """The projection's sequence number: the timeline only grows (and is carried across
    continue-as-new), so its length orders projections; `changes_since` orders those in
    between. A rebuild from the final status uses the highest number of its length."""
    return timeline_length * SEQ_STEP + min(changes_since, SEQ_STEP - 1)


class ProjectOrderInput(BaseModel):
    workflow_id: str
    seq: int = Field(ge=0)
    order: Order
    status: OrderStatus


class ProjectReturnInput(BaseModel):
    workflow_id: str
    seq: int = Field(ge=0)
    status: ReturnStatus


class ProjectDisputeInput(BaseModel):
    workflow_id: str
    seq: int = Field(ge=0)
    status: DisputeStatus


class ProjectCaseInput(BaseModel):
    workflow_id: str
    seq: int = Field(ge=0)
    status: CaseStatus


class ProjectionReceipt(BaseModel):
    """`written` False: the stored row was as new or newer (a retry, a replay)."""

    written: bool
    stored_seq: int
