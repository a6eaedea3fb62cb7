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

from pydantic import BaseModel, ConfigDict, Field

from crossdock.messages.intents import Intent
from crossdock.models.approval import ApprovalStatus, Principal
from crossdock.models.lifecycle import Lifecycle, TimelineEntry
from crossdock.models.order import Channel
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

    def deadline(self, channel: Channel) -> timedelta:
        default = timedelta(seconds=self.storefront_deadline_seconds)
        return CHANNEL_DEADLINES.get(channel, default)


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


class CaseAction(BaseModel):
    """An action taken from the case, carried out by the order's own updates."""

    kind: CaseActionKind
    reason: str = Field(min_length=1, max_length=500)
    by: Principal


class CaseActionReceipt(BaseModel):
    kind: CaseActionKind
    accepted: bool
    detail: str


class OrderActionInput(BaseModel):
    order_workflow_id: str
    action: CaseAction
    idempotency_key: str


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
