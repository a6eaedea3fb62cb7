"""Buyer conversations (`case-{channel}-{thread}`): the lifecycle as a table and the
contracts of the case workflow, its activities and its updates (docs/customer-service.md).

A case opens on a buyer's message, is linked to its order, and waits for our answer
until the channel's response deadline (Amazon 24 h, eBay 24 h per its seller standards,
the storefront a setting). Messages' texts are personal data: they live in payloads,
which the codec encrypts, never in ids or search attributes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crossdock.messages.intents import Intent
from crossdock.models.approval import ApprovalStatus, Principal
from crossdock.models.lifecycle import Lifecycle, TimelineEntry
from crossdock.models.order import Address, Channel
from crossdock.models.returns import ReturnLine, ReturnReason
from crossdock.money import Money

__all__ = ["Intent"]


class CaseState(StrEnum):
    # A buyer's message waits for our answer.
    AWAITING_US = "awaiting_us"
    # We answered; the buyer may write again.
    ANSWERED = "answered"
    CLOSED = "closed"


S = CaseState
CASE_LIFECYCLE = Lifecycle(
    "case",
    S.AWAITING_US,
    {
        S.AWAITING_US: frozenset({S.ANSWERED, S.CLOSED}),
        S.ANSWERED: frozenset({S.AWAITING_US, S.CLOSED}),
        S.CLOSED: frozenset({S.AWAITING_US}),
    },
)

# Response deadlines per channel: Amazon asks sellers to answer buyer messages within
# 24 hours; eBay's seller standards count a reply within one business day (24 h here).
CHANNEL_DEADLINES = {
    Channel.AMAZON: timedelta(hours=24),
    Channel.EBAY: timedelta(hours=24),
}


class CasePolicy(BaseModel):
    """How long we have, and what may be answered without a person."""

    model_config = ConfigDict(frozen=True)

    storefront_deadline_seconds: float = 24 * 3600
    # Fractions of the deadline: remind the team, then escalate, then flag it missed.
    remind_at: float = 0.5
    escalate_at: float = 0.8
    # "Where is my order" answered automatically when the order's facts are clear.
    auto_answer_where_is_my_order: bool = True
    # An answered case with no new message for this long closes.
    close_after_seconds: float = 7 * 24 * 3600
    # A goodwill refund of this much or more (minor units, per currency) needs a finance
    # approver who is not the operator who offered it; a currency not listed always does.
    goodwill_finance_thresholds: dict[str, int] = Field(
        default_factory=lambda: {
            "EUR": 2_500,
            "GBP": 2_200,
            "USD": 2_700,
            "JPY": 4_000,
            "AUD": 4_100,
            "CAD": 3_700,
        }
    )
    # A pending goodwill refund is checked this often, this many times, before a person
    # is asked to find out what became of it (it is never assumed paid).
    refund_check_seconds: float = Field(default=3600, gt=0)
    refund_checks: int = Field(default=24, ge=1)

    def deadline(self, channel: Channel) -> timedelta:
        default = timedelta(seconds=self.storefront_deadline_seconds)
        return CHANNEL_DEADLINES.get(channel, default)

    def finance_threshold(self, currency: str) -> Money | None:
        amount = self.goodwill_finance_thresholds.get(currency)
        return Money(amount=amount, currency=currency) if amount is not None else None


class BuyerMessage(BaseModel):
    """One message a buyer sent, as intake read it from the channel."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    # The channel's conversation (Amazon order id, eBay conversation id, e-mail thread).
    thread: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    message_id: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=4000)
    received_at: datetime
    # What the buyer gave to find the order: its id, else a tracking number or e-mail.
    order_id: str = Field(default="", max_length=64)
    tracking_code: str = Field(default="", max_length=64)
    email: str = Field(default="", max_length=254)


class ImportBuyerMessagesInput(BaseModel):
    """One poll of a marketplace's buyer messages: those sent at or after `since`."""

    channel: Channel
    since: datetime


class ImportBuyerMessagesResult(BaseModel):
    # Where the next poll starts: the newest message seen (inclusive: a message seen
    # twice is dropped by its case, by id).
    cursor: datetime
    delivered: int = 0
    skipped: int = 0


class CaseInput(BaseModel):
    channel: Channel
    thread: str
    policy: CasePolicy = CasePolicy()


class ThreadLine(BaseModel):
    """One message of the conversation, either way, decoded for the case page."""

    at: datetime
    # "buyer", "auto" (answered by policy) or the operator's account id.
    by: str
    inbound: bool
    text: str
    intent: Intent | None = None
    language: str | None = None
    via: str = ""


class OrderFacts(BaseModel):
    """The order's live facts a reply is built from (queried from the order workflow)."""

    model_config = ConfigDict(frozen=True)

    order_workflow_id: str
    channel_order_id: str
    state: str
    country: str
    language: str
    carrier: str = ""
    tracking_code: str = ""
    tracker_id: str = ""
    last_scan_at: datetime | None = None
    last_scan: str = ""
    expected_delivery: date | None = None
    duties_due: Money | None = None
    refunded: Money | None = None
    buyer_email: str = ""
    # The order's currency (what a goodwill refund is paid in); "" in facts read before
    # goodwill refunds existed.
    currency: str = ""

    @property
    def tracked(self) -> bool:
        return bool(self.tracking_code)


class FindOrderInput(BaseModel):
    channel: Channel
    order_id: str = ""
    tracking_code: str = ""
    email: str = ""


class SuggestReplyInput(BaseModel):
    intent: Intent
    facts: OrderFacts | None
    language: str


class SuggestedReply(BaseModel):
    text: str
    language: str
    # Clear enough to send without a person ("where is my order" with tracking).
    clear: bool = False


class CaseReply(BaseModel):
    """An operator's (edited) reply, sent to the buyer through the channel."""

    text: str = Field(min_length=1, max_length=2000)
    by: Principal


class CaseActionKind(StrEnum):
    CANCEL_ORDER = "cancel_order"
    # A new ship-to address before the label is bought (the order's `correct_address`).
    CORRECT_ADDRESS = "correct_address"
    # A return of some or all lines, started as an operator's return.
    OPEN_RETURN = "open_return"
    # A partial refund without a return, through the order's refund ledger and channel.
    GOODWILL_REFUND = "goodwill_refund"
    # Finance's decision on a goodwill refund at or over the threshold (maker != checker).
    APPROVE_REFUND = "approve_refund"
    REJECT_REFUND = "reject_refund"


REFUND_DECISIONS = frozenset({CaseActionKind.APPROVE_REFUND, CaseActionKind.REJECT_REFUND})


class CaseAction(BaseModel):
    """An action taken from the case, carried out by the lifecycles' own updates."""

    kind: CaseActionKind
    reason: str = Field(min_length=1, max_length=500)
    by: Principal
    # correct_address: the new ship-to address.
    address: Address | None = None
    # open_return: the lines sent back (none: every line of the order) and why.
    lines: list[ReturnLine] = Field(default_factory=list, max_length=100)
    return_reason: ReturnReason | None = None
    # goodwill_refund: how much, in the order's currency.
    amount: Money | None = None
    # approve_refund / reject_refund: the goodwill refund decided (e.g. "goodwill-1").
    refund: str = Field(default="", max_length=40)

    @model_validator(mode="after")
    def _complete(self) -> CaseAction:
        kind = self.kind
        if kind is CaseActionKind.CORRECT_ADDRESS and self.address is None:
            raise ValueError("address is required to correct the address")
        if kind is CaseActionKind.OPEN_RETURN and self.return_reason is None:
            raise ValueError("return_reason is required to open a return")
        if kind is CaseActionKind.GOODWILL_REFUND and (
            self.amount is None or self.amount.amount <= 0
        ):
            raise ValueError("amount (above zero) is required for a goodwill refund")
        if kind in REFUND_DECISIONS and not self.refund:
            raise ValueError("refund names the goodwill refund decided, e.g. 'goodwill-1'")
        return self


class CaseActionReceipt(BaseModel):
    kind: CaseActionKind
    accepted: bool
    detail: str
    # The workflow the action started (a return), if any.
    workflow_id: str = ""


class OrderActionInput(BaseModel):
    order_workflow_id: str
    action: CaseAction
    idempotency_key: str
    # open_return: the return's id, derived from the case (a retry opens no second one).
    rma: str = ""


class GoodwillState(StrEnum):
    AWAITING_FINANCE = "awaiting_finance"
    REJECTED = "rejected"  # by finance
    REFUSED = "refused"  # by the order's ledger (more than is left) or the channel
    PENDING = "pending"  # issued, not confirmed yet
    SUCCEEDED = "succeeded"  # the partner confirmed it: the ledger counts it
    FAILED = "failed"  # the partner said no: the amount is free again
    UNCONFIRMED = "unconfirmed"  # still pending after every check: a person finds out


class GoodwillRefund(BaseModel):
    """One goodwill refund offered from the case, as it stands."""

    step: str
    amount: Money
    reason: str
    requested_by: Principal
    approved_by: Principal | None = None
    state: GoodwillState
    refund_id: str = ""
    detail: str = ""


class CaseStatus(BaseModel):
    state: CaseState = CaseState.AWAITING_US
    channel: Channel = Channel.STOREFRONT
    order_workflow_id: str = ""
    facts: OrderFacts | None = None
    language: str = "en"
    intents: list[Intent] = Field(default_factory=list)
    thread: list[ThreadLine] = Field(default_factory=list)
    suggested_reply: SuggestedReply | None = None
    # When the oldest unanswered buyer message arrived, and its deadline.
    waiting_since: datetime | None = None
    deadline: datetime | None = None
    first_response_seconds: float | None = None
    # Per answered buyer message: answered before the channel's deadline?
    answered_in_time: list[bool] = Field(default_factory=list)
    # The intent each of those answers was to (the latest message's when answered).
    answered_intents: list[Intent] = Field(default_factory=list)
    missed: int = 0
    needs_attention: bool = False
    timeline: list[TimelineEntry] = Field(default_factory=list)
    # The approval whose clocks carry the deadline (reminder, escalation, expiry).
    approvals: list[ApprovalStatus] = Field(default_factory=list)
    # Goodwill refunds offered from the case, and returns opened from it.
    goodwill: list[GoodwillRefund] = Field(default_factory=list)
    returns: list[str] = Field(default_factory=list)
