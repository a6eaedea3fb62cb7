"""Telling the channel the seller cancelled an order, or some of its lines.

Amazon: an order acknowledgement feed (StatusCode Failure, a CancelReason per item).
eBay: a seller's Post-Order cancellation for the whole order, an issueRefund of the lines
for part of it (Post-Order cancels whole orders only). Storefront: its cancellation record.
Each channel's reason codes are the tables below.

None of the marketplaces takes an idempotency key here, so a retried attempt looks first:
an Amazon order already Canceled needs nothing; an eBay order the seller already
cancelled answers that cancellation (and a buyer's request still waiting is approved
rather than a second cancellation opened); an eBay refund carries the key in its comment,
which eBay's sandbox (and a person) reads as the same refund. The storefront honours
Idempotency-Key.
"""

from __future__ import annotations

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import partner_errors
from crossdock.config import Settings
from crossdock.models.channel_cancel import (
    CancelOnChannelInput,
    ChannelCancellation,
    SellerCancelReason,
)
from crossdock.models.order import Channel, LineItem, Order
from crossdock.models.refusals import RefusalKind, classify
from crossdock.money import Money
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.amazon_feeds import (
    ACKNOWLEDGEMENT,
    DONE,
    AmazonFeedsClient,
    order_acknowledgement,
)
from crossdock.partners.clients import PartnerClients
from crossdock.partners.ebay_post_order import EbayPostOrderClient
from crossdock.partners.ebay_returns import EbayRefundsClient
from crossdock.partners.errors import PartnerRejected
from crossdock.partners.http import send

# OrderAcknowledgement CancelReason.
AMAZON_REASONS = {
    SellerCancelReason.OUT_OF_STOCK: "NoInventory",
    SellerCancelReason.ADDRESS_UNDELIVERABLE: "ShippingAddressUndeliverable",
    SellerCancelReason.BUYER_ASKED: "BuyerCanceled",
    SellerCancelReason.RISK_REJECTED: "RiskAssessmentInformationNotValid",
    SellerCancelReason.CANNOT_FULFIL: "GeneralAdjustment",
}
# Post-Order CancelReasonEnum, seller's values (eBay has no risk reason: "cannot fulfil").
EBAY_CANCEL_REASONS = {
    SellerCancelReason.OUT_OF_STOCK: "OUT_OF_STOCK_OR_CANNOT_FULFILL",
    SellerCancelReason.ADDRESS_UNDELIVERABLE: "ADDRESS_ISSUES",
    SellerCancelReason.BUYER_ASKED: "BUYER_ASKED_CANCEL",
    SellerCancelReason.RISK_REJECTED: "OUT_OF_STOCK_OR_CANNOT_FULFILL",
    SellerCancelReason.CANNOT_FULFIL: "OUT_OF_STOCK_OR_CANNOT_FULFILL",
}
# Fulfillment ReasonForRefundEnum, for lines refunded instead of cancelled.
EBAY_REFUND_REASONS = {
    SellerCancelReason.BUYER_ASKED: "BUYER_CANCEL",
}
EBAY_SELLER_REFUND = "SELLER_CANCEL"
ACCEPTED, PENDING, NOT_NEEDED = "accepted", "pending", "not_needed"
CANCEL_CLOSED_WITH_REFUND = "CANCEL_CLOSED_WITH_REFUND"


def refused(message: str, kind: str = "ChannelCancelRefused") -> ApplicationError:
    """A refusal retrying cannot change (the workflow decides what follows)."""
    return ApplicationError(message, type=kind, non_retryable=True)


def chosen_lines(order: Order, line_ids: list[str]) -> list[LineItem]:
    """The order's lines named by `line_ids` (every line when empty).

    A line is named by its channel id (`LineItem.line_id`); storefront lines have none
    and are named by SKU.
    """
    if not line_ids:
        return list(order.items)
    by_id = {item.line_id or item.sku: item for item in order.items}
    for index, line_id in enumerate(line_ids):
        if line_id not in by_id:
            raise refused(
                f"line_ids[{index}]: {line_id!r} is not a line of order "
                f"{order.channel_order_id} (lines: {', '.join(by_id)})",
                "InvalidLineId",
            )
    return [by_id[line_id] for line_id in dict.fromkeys(line_ids)]


class ChannelCancelActivities:
    def __init__(
        self,
        amazon: AmazonOrdersClient,
        feeds: AmazonFeedsClient,
        post_order: EbayPostOrderClient,
        refunds: EbayRefundsClient,
        storefront: httpx.AsyncClient,
    ) -> None:
        self._amazon, self._feeds = amazon, feeds
        self._post_order, self._refunds = post_order, refunds
        self._storefront = storefront

    @classmethod
    def from_partners(cls, partners: PartnerClients, settings: Settings) -> ChannelCancelActivities:
        """Built over the partner clients' connection pools."""
        return cls(
            partners.amazon,
            AmazonFeedsClient(
                settings.amazon_base_url,
                settings.amazon_access_token,
                settings.amazon_marketplace_id,
                partners.amazon.http,
            ),
            EbayPostOrderClient(
                settings.ebay_base_url, settings.ebay_access_token, partners.ebay.http
            ),
            EbayRefundsClient(
                settings.ebay_base_url, settings.ebay_access_token, partners.ebay.http
            ),
            partners.storefront,
        )

    @activity.defn
    async def cancel_on_channel(self, input: CancelOnChannelInput) -> ChannelCancellation:
        """Tell the order's channel the seller cancelled it (or `line_ids` of it)."""
        order = input.order
        lines = chosen_lines(order, input.line_ids)
        whole = len(lines) == len(order.items)
        with partner_errors():
            if order.channel is Channel.AMAZON:
                return await self._amazon_cancel(order, lines, input.reason)
            if order.channel is Channel.EBAY:
                if whole:
                    return await self._ebay_cancel(order, input.reason)
                return await self._ebay_refund(order, lines, input)
            return await self._storefront_cancel(order, lines, whole, input)

    async def _amazon_cancel(
        self, order: Order, lines: list[LineItem], reason: SellerCancelReason
    ) -> ChannelCancellation:
        order_id = order.channel_order_id
        if (await self._amazon.get_order(order_id)).order_status == "Canceled":
            return ChannelCancellation(reference=order_id, status=NOT_NEEDED)
        feed = order_acknowledgement(order_id, {i.line_id: AMAZON_REASONS[reason] for i in lines})
        feed_id = await self._feeds.submit(ACKNOWLEDGEMENT, feed)
        processed = await self._feeds.get_feed(feed_id)
        if processed.processing_status != DONE:
            if processed.processing_status in ("FATAL", "CANCELLED"):
                raise refused(f"amazon feed {feed_id} is {processed.processing_status}")
            return ChannelCancellation(reference=feed_id, status=PENDING)
        errors = [
            r for r in await self._feeds.processing_report(processed) if r.result_code == "Error"
        ]
        if errors:
            described = "; ".join(f"{e.message_code}: {e.description}" for e in errors)
            raise refused(f"amazon feed {feed_id} refused: {described}", "AmazonFeedRefused")
        return ChannelCancellation(reference=feed_id, status=ACCEPTED)

    async def _ebay_cancel(self, order: Order, reason: SellerCancelReason) -> ChannelCancellation:
        order_id = order.channel_order_id
        earlier = await self._post_order.order_cancellations(order_id)
        mine = next((c for c in earlier if c.requestor_type == "SELLER"), None)
        if mine is not None:  # a retried attempt: the first one went through
            return ChannelCancellation(reference=mine.cancel_id, status=ACCEPTED)
        waiting = next((c for c in earlier if c.awaits_seller), None)
        if waiting is not None:  # eBay wants the buyer's own request answered
            await self._approve(waiting.cancel_id)
            return ChannelCancellation(reference=waiting.cancel_id, status=ACCEPTED)
        try:
            cancel_id = await self._post_order.create_cancellation(
                order_id, EBAY_CANCEL_REASONS[reason], paid_at=order.placed_at
            )
        except PartnerRejected as err:
            # The buyer's own request, approved a moment earlier by the cancellation
            # poller, cancelled it already: what we came to tell eBay is true.
            if classify(err.status, err.code, err.message) is not RefusalKind.ALREADY_DONE:
                raise
            return ChannelCancellation(reference=order_id, status=NOT_NEEDED)
        return ChannelCancellation(reference=cancel_id, status=ACCEPTED)

    async def _approve(self, cancel_id: str) -> None:
        try:
            await self._post_order.approve_cancellation(cancel_id)
        except PartnerRejected:
            # The cancellation-request poller may have approved it a moment earlier.
            found = await self._post_order.get_cancellation(cancel_id)
            if found is None or found.cancel_status != CANCEL_CLOSED_WITH_REFUND:
                raise

    async def _ebay_refund(
        self, order: Order, lines: list[LineItem], input: CancelOnChannelInput
    ) -> ChannelCancellation:
        amounts = [(line.line_id, line.line_total) for line in lines]
        refund = await self._refunds.issue_refund(
            order.channel_order_id,
            Money(amount=sum(m.amount for _, m in amounts), currency=order.currency),
            EBAY_REFUND_REASONS.get(input.reason, EBAY_SELLER_REFUND),
            input.idempotency_key,
            amounts,
        )
        if refund.refund_status == "FAILED" or refund.refund_id is None:
            raise refused(f"ebay refused the refund of lines {[i for i, _ in amounts]}")
        return ChannelCancellation(reference=refund.refund_id, status=ACCEPTED)

    async def _storefront_cancel(
        self, order: Order, lines: list[LineItem], whole: bool, input: CancelOnChannelInput
    ) -> ChannelCancellation:
        response = await send(
            self._storefront,
            "storefront",
            "POST",
            f"/orders/{order.channel_order_id}/cancellations",
            _storefront_error,
            json={"reason": input.reason.value, "skus": [] if whole else [i.sku for i in lines]},
            headers={"Idempotency-Key": input.idempotency_key},
        )
        cancellation_id: str = response.json()["id"]
        return ChannelCancellation(reference=cancellation_id, status=ACCEPTED)


def _storefront_error(body: object) -> tuple[str | None, str | None]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        field = error.get("field")
        message = error.get("message")
        return error.get("code"), f"{field}: {message}" if field else message
    return None, None
