"""What an operator decides about an approval, and what deciding one way gives away."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.principal import Principal
from crossdock.money import Money


class DecisionAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    # Keep the approval open and ask the requester (or buyer) for more; restarts the
    # reminder clock but never the expiry, so a deadline cannot be talked away.
    REQUEST_INFO = "request_info"


# Actions that must say why: they are what a buyer, auditor or colleague will ask about.
REASON_REQUIRED = frozenset({DecisionAction.REJECT, DecisionAction.REQUEST_INFO})


class Decision(BaseModel):
    """What an operator decided about the approval named `key`.

    `key` must match the pending approval, so a click on a stale console page can never
    decide a different question that opened since. `option` picks one of the request's
    `options` (e.g. "return_label", "returnless"); `amount` approves a different amount
    than requested (a partial refund), never more.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    action: DecisionAction
    by: Principal
    # Bounded: it is stored in workflow history and shown in timelines.
    reason: str = Field(default="", max_length=2000)
    option: str = ""
    amount: Money | None = None


class Price(BaseModel):
    """What deciding one way gives away, whatever amount is typed: a replacement's goods
    at their order value, the refund a declined offer falls back to, a conceded dispute.

    The finance threshold is compared with this, not with the decision's `amount`, so a
    small number typed beside a large give-away cannot slip under it.
    """

    model_config = ConfigDict(frozen=True)

    action: DecisionAction = DecisionAction.APPROVE
    option: str = ""
    gives_away: Money
    # What the decision does, for the refusal ("concede the dispute"); else action and option.
    label: str = Field(default="", max_length=200)
