"""Contracts of the intake activities: importing new marketplace orders, and relaying
buyers' cancellation requests to their orders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from crossdock.models.approval import Principal, Role
from crossdock.models.order import Channel


class ImportOrdersInput(BaseModel):
    channel: Channel
    created_after: datetime
    skip: list[str] = Field(default_factory=list)  # already imported, do not start again


class RefusedOrder(BaseModel):
    channel_order_id: str
    reason: str


class ImportOrdersResult(BaseModel):
    # Every order id listed (imported now or before), with its purchase time.
    seen: dict[str, datetime] = Field(default_factory=dict)
    started: list[str] = Field(default_factory=list)
    refused: list[RefusedOrder] = Field(default_factory=list)


# ---------------------------------------------------------------- buyer cancellation requests


class CancellationOutcome(StrEnum):
    """What became of a buyer's cancellation request relayed to the order workflow."""

    ACCEPTED = "accepted"  # the order took the `cancel` update and is being cancelled
    # Cancelled, or being cancelled, before the request came (by an operator, the
    # review, or this same request relayed once already).
    ALREADY_CANCELLED = "already_cancelled"
    REFUSED = "refused"  # shipped or shipping: the buyer must ask for a return
    UNKNOWN_ORDER = "unknown_order"  # no order workflow: never imported; a person looks


class MarketplaceAnswer(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    NONE = "none"  # nothing to tell the marketplace


# How the marketplace is answered for each outcome, where it takes an answer (eBay's
# Post-Order API). An order that will not ship lets the buyer's cancellation through, so
# eBay refunds the buyer; one that ships is rejected. Amazon's Orders API takes no answer.
ANSWERS: dict[CancellationOutcome, MarketplaceAnswer] = {
    CancellationOutcome.ACCEPTED: MarketplaceAnswer.APPROVE,
    CancellationOutcome.ALREADY_CANCELLED: MarketplaceAnswer.APPROVE,
    CancellationOutcome.REFUSED: MarketplaceAnswer.REJECT,
    CancellationOutcome.UNKNOWN_ORDER: MarketplaceAnswer.NONE,
}
ANSWERING_CHANNELS = frozenset({Channel.EBAY})

# Who relays a buyer's request to the order: a service account per marketplace, with the
# operator role the order's `cancel` update requires. Timelines show it as the canceller.
INTAKE_PRINCIPALS: dict[Channel, Principal] = {
    channel: Principal(id=f"intake:{channel.value}", role=Role.OPERATOR)
    for channel in (Channel.AMAZON, Channel.EBAY)
}


def answer_for(channel: Channel, outcome: CancellationOutcome) -> MarketplaceAnswer:
    """What to tell `channel` about a request that ended in `outcome`."""
    return ANSWERS[outcome] if channel in ANSWERING_CHANNELS else MarketplaceAnswer.NONE


class ImportCancellationsInput(BaseModel):
    channel: Channel
    # eBay: requests made at or after this; Amazon: orders updated at or after this (a
    # buyer's request updates the order).
    since: datetime
    # Listing keys already handled inside the overlap window: eBay cancelIds, Amazon
    # "{order id}@{LastUpdateDate}".
    skip: list[str] = Field(default_factory=list)


class HandledCancellation(BaseModel):
    request_id: str  # eBay cancelId; Amazon order id (one request per order)
    channel_order_id: str
    outcome: CancellationOutcome
    answer: MarketplaceAnswer
    detail: str = ""  # the order's receipt note or its refusal


class ImportCancellationsResult(BaseModel):
    # Every listing key seen (handled now or before, or with no request), with its time.
    seen: dict[str, datetime] = Field(default_factory=dict)
    handled: list[HandledCancellation] = Field(default_factory=list)
