"""The return contract: a buyer's request to send goods back (or be refunded without),
and everything the return workflow's handlers and activities exchange.

A return is its own workflow, `return-{channel}-{rma}`, linked to its order; the order
keeps the refund ledger (crossdock.models.order_cases). No I/O here, so workflows import it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crossdock.models.approval import Principal
from crossdock.models.order import Address, AwareDatetime, Channel, NonEmpty, Order
from crossdock.models.order_steps import LandedCost, PaymentAuthorization
from crossdock.money import Money

Rma = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ReturnReason(StrEnum):
    """Why the buyer sends it back; the policy table says what each one means."""

    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"
    WRONG_ITEM = "wrong_item"
    CHANGED_MIND = "changed_mind"
    NOT_RECEIVED = "not_received"


class ReturnSource(StrEnum):
    MARKETPLACE = "marketplace"  # a marketplace return request, found by intake
    CANCELLATION = "cancellation"  # a buyer cancellation that reached us after shipment
    OPERATOR = "operator"  # opened by an operator (CLI, console)


class ReturnOption(StrEnum):
    """What an operator may approve (the `option` of a `decide` approve)."""

    RETURN_LABEL = "return_label"
    # Refund without the goods coming back: shipping them costs more than they are worth.
    RETURNLESS = "returnless"
    # Offer part of the refund for the buyer to keep the goods (buyer accepts by signal).
    PARTIAL_OFFER = "partial_offer"
    # Send the lines again, free, as an order of their own, instead of refunding them.
    REPLACEMENT = "replacement"


class ReturnLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: NonEmpty
    quantity: int = Field(gt=0)


class ReturnRequest(BaseModel):
    """One return as intake or an operator opened it. Invalid data is refused naming the
    field; the lines are checked against the order once it is read."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    rma: Rma
    # The order workflow this return is about, e.g. "order-ebay-12-34567-89012".
    order_id: str = Field(min_length=1, pattern=r"^order-[a-z]+-[A-Za-z0-9_-]+$")
    lines: list[ReturnLine] = Field(min_length=1)
    reason: ReturnReason
    source: ReturnSource
    requested_at: AwareDatetime
    comment: str = Field(default="", max_length=1000)
    # The operator who opened it (maker-checker: they may not approve its refund).
    requested_by: Principal | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ReturnRequest:
        if self.source is ReturnSource.OPERATOR and self.requested_by is None:
            raise ValueError("requested_by is required when source is 'operator'")
        if not self.order_id.startswith(f"order-{self.channel.value}-"):
            raise ValueError(
                f"order_id {self.order_id!r} is not a {self.channel} order "
                f"(expected 'order-{self.channel.value}-...')"
            )
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError(f"lines name a sku twice: {skus}; give one line per sku")
        return self

    @property
    def workflow_id(self) -> str:
        return return_workflow_id(self.channel, self.rma)


def return_workflow_id(channel: Channel | str, rma: str) -> str:
    """Return workflow id: channel and RMA only, no personal data."""
    return f"return-{Channel(channel).value}-{rma}"


class ReturnTimers(BaseModel):
    """The return's clocks, fixed at start so replays see the same values."""

    decision_remind_seconds: float = Field(default=4 * 3600, gt=0)
    decision_escalate_seconds: float = Field(default=24 * 3600, gt=0)
    decision_expire_seconds: float = Field(default=72 * 3600, gt=0)
    # The buyer must hand the parcel to the carrier within this, or the return closes.
    ship_back_seconds: float = Field(default=14 * 24 * 3600, gt=0)
    # A parcel on its way back with no delivery scan for this long needs a person.
    transit_attention_seconds: float = Field(default=21 * 24 * 3600, gt=0)
    # A received parcel not inspected within this needs a person (NeedsAttention).
    inspection_remind_seconds: float = Field(default=2 * 24 * 3600, gt=0)
    offer_expire_seconds: float = Field(default=7 * 24 * 3600, gt=0)
    # A pending refund is re-checked this often, this many times, then escalated.
    refund_check_seconds: float = Field(default=3600, gt=0)
    refund_checks: int = Field(default=48, gt=0)
    # Failed refunds are retried (a new refund, new key) this many times, then escalated.
    refund_attempts: int = Field(default=2, gt=0)


class ReturnInput(BaseModel):
    request: ReturnRequest
    # Where returned goods go (the warehouse the order shipped from).
    warehouse: Address
    timers: ReturnTimers = Field(default_factory=ReturnTimers)


class InspectionVerdict(StrEnum):
    ACCEPTED = "accepted"  # resellable: refunded in full (less any restocking fee)
    PARTIAL = "partial"  # used or incomplete: refunded at `refund_percent`
    DAMAGED = "damaged"  # cannot be resold: written off
    WRONG_ITEM = "wrong_item"  # not what we sent: escalated to an operator


class InspectedLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: NonEmpty
    verdict: InspectionVerdict
    refund_percent: int | None = Field(default=None, ge=1, le=99)
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _percent_for_partial(self) -> InspectedLine:
        if (self.verdict is InspectionVerdict.PARTIAL) != (self.refund_percent is not None):
            raise ValueError(
                f"{self.sku}: refund_percent (1-99) is required for a partial verdict and "
                f"only for it; got verdict {self.verdict} with refund_percent "
                f"{self.refund_percent}"
            )
        return self


class Inspection(BaseModel):
    """What the warehouse found in the parcel, one verdict per returned line (update
    `inspect`)."""

    model_config = ConfigDict(frozen=True)

    lines: list[InspectedLine] = Field(min_length=1)
    by: Principal


class InspectionReceipt(BaseModel):
    refund: Money
    written_off: list[str]
    escalated: list[str]


class OfferAnswer(BaseModel):
    """The buyer's answer to a partial-refund offer (signal `answer_offer`)."""

    model_config = ConfigDict(frozen=True)

    accepted: bool
    note: str = Field(default="", max_length=500)


class RefundState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Issued, but the partner refused to say how it ended (e.g. it forgot the refund):
    # neither refunded nor free until a person finds out.
    UNCONFIRMED = "unconfirmed"


class ReturnRefund(BaseModel):
    """One refund attempt: reserved on the order, issued to the partner, settled."""

    step: str  # "refund", "refund-2", ...: part of the reservation id and idempotency key
    amount: Money
    state: RefundState = RefundState.PENDING
    refund_id: str = ""
    detail: str = ""
    # Who says it succeeded: "partner", or the operator who recorded it and their reason.
    confirmed_by: str = Field(default="", max_length=600)


# -- activities ------------------------------------------------------------------------


class ReadOrderInput(BaseModel):
    order_id: str


class OrderSnapshot(BaseModel):
    """The order as the return needs it: what was sold, paid and is left to refund."""

    order: Order
    state: str
    paid: Money
    remaining: Money
    delivered_at: datetime | None = None
    authorization: PaymentAuthorization | None = None
    landed_cost: LandedCost | None = None


class StartReplacementInput(BaseModel):
    """Start the replacement order for a return's lines (idempotent per return)."""

    order_id: str
    rma: str
    lines: list[ReturnLine] = Field(min_length=1)


class ReplacementStarted(BaseModel):
    workflow_id: str
    started: bool  # False: it was started already (a retried activity)


class ReserveRefundInput(BaseModel):
    order_id: str
    case_id: str
    step: str
    amount: Money
    reason: str


class IssueRefundInput(BaseModel):
    """Refund `amount` of `order` through its channel (provider or marketplace)."""

    order: Order
    amount: Money
    reason: str
    idempotency_key: str
    intent_id: str | None = None  # storefront: the PaymentIntent that was captured
    # eBay: refund per line item (lineItemId, amount); the rest goes to the order level.
    line_amounts: list[tuple[str, Money]] = Field(default_factory=list)
    # The returned lines (Amazon adjusts per order item).
    lines: list[ReturnLine] = Field(default_factory=list)
    # Amazon's AdjustmentReason: a return's refund, or a goodwill gesture from a case.
    adjustment_reason: str = "CustomerReturn"


class IssuedRefund(BaseModel):
    refund_id: str
    state: RefundState
    detail: str = ""


class CheckRefundInput(BaseModel):
    order: Order
    refund_id: str


class ReturnLabelInput(BaseModel):
    reference: str  # the return workflow id: tracking webhooks find the return by it
    order: Order
    lines: list[ReturnLine]
    warehouse: Address
    idempotency_key: str


class SettleRefundInput(BaseModel):
    order_id: str
    reservation_id: str
    succeeded: bool
    refund_id: str = ""
    detail: str = ""


class ReturnResult(BaseModel):
    state: str
    reason: str = ""
    refunded: Money | None = None
