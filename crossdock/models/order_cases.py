"""How returns and disputes talk to their order: the order keeps the money ledger.

Every refund on an order (a return's, a lost parcel's, a dispute's acceptance) is first
*reserved* on the order through its `reserve_refund` update. The order workflow is the
one place that knows what was captured and what is already refunded or reserved, and
Temporal runs its update handlers one at a time, so concurrent returns on one order can
never refund more than was captured between them. A reservation is then settled by the
`settle_refund` signal: succeeded (it becomes refunded) or failed (the amount is free
again). Cases also `link_case` themselves, so the order's timeline shows them and the
order stays open until its returns close.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.bounds import PositiveMoney
from crossdock.money import Money


class CaseKind(StrEnum):
    RETURN = "return"
    DISPUTE = "dispute"


class CaseLink(BaseModel):
    """A return or dispute about this order (signal `link_case`; sent again on close)."""

    model_config = ConfigDict(frozen=True)

    kind: CaseKind
    workflow_id: str = Field(min_length=1)
    summary: str = Field(default="", max_length=500)
    open: bool = True


class RefundRequest(BaseModel):
    """Ask the order to set `amount` aside for the case `case_id` (update `reserve_refund`).

    One reservation per `case_id` and `step` ("refund", "refund-2" after a failure...):
    asking again for the same pair returns the same grant, so a retried activity never
    reserves twice.
    """

    model_config = ConfigDict(frozen=True)

    case_id: str = Field(min_length=1)
    step: str = Field(default="refund", min_length=1)
    amount: PositiveMoney
    reason: str = Field(min_length=1, max_length=500)

    @property
    def reservation_id(self) -> str:
        return f"{self.case_id}/{self.step}"


class RefundGrant(BaseModel):
    reservation_id: str
    granted: Money
    # What could still be refunded on the order after this reservation.
    remaining: Money


class RefundOutcome(BaseModel):
    """How a reserved refund ended (signal `settle_refund`)."""

    model_config = ConfigDict(frozen=True)

    reservation_id: str = Field(min_length=1)
    succeeded: bool
    refund_id: str = ""
    detail: str = Field(default="", max_length=500)


class RefundReservation(BaseModel):
    """One reservation as the order records it (part of the order's status)."""

    reservation_id: str
    amount: Money
    reason: str
    state: str = "reserved"  # reserved | succeeded | failed
    refund_id: str = ""
