"""Telling a marketplace that the seller cancelled an order, or some of its lines.

Amazon and eBay keep their own copy of the order and refund the buyer themselves when the
seller cancels: Amazon through the order acknowledgement feed (StatusCode Failure with a
CancelReason, per item), eBay through a seller-initiated Post-Order cancellation (whole
order) or a Fulfillment `issue_refund` for some lines. The storefront is ours: its
fulfilment record is marked cancelled.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from crossdock.models.order import NonEmpty, Order


class SellerCancelReason(StrEnum):
    """Why the seller cancels, mapped by each channel adapter to its own codes."""

    OUT_OF_STOCK = "out_of_stock"
    ADDRESS_UNDELIVERABLE = "address_undeliverable"
    BUYER_ASKED = "buyer_asked"
    RISK_REJECTED = "risk_rejected"
    CANNOT_FULFIL = "cannot_fulfil"  # customs, screening, carrier refusal...


class CancelOnChannelInput(BaseModel):
    order: Order
    reason: SellerCancelReason
    # The channel line ids (LineItem.line_id) to cancel; empty = the whole order.
    line_ids: list[str] = Field(default_factory=list)
    idempotency_key: NonEmpty


class ChannelCancellation(BaseModel):
    # The channel's reference (Amazon feed id, eBay cancel id or refund id, storefront id).
    reference: str
    # accepted | pending (e.g. a feed still processing) | not_needed (nothing to tell)
    status: str
