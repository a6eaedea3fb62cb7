"""Amazon refunds: the payment adjustment feed (POST_PAYMENT_ADJUSTMENT_DATA), submitted
through the Feeds API (`AmazonFeedsClient`).

SP-API has no refund call: a seller refunds an order item by an OrderAdjustment with an
AdjustmentReason and price components (Principal, Shipping, ...). The feed takes no
idempotency key, but the MerchantAdjustmentID names the adjustment: Crossdock sends its
own key there, and Amazon applies one adjustment per MerchantAdjustmentID, so a
resubmitted feed refunds nothing twice. Amazon processes the feed later; the processing
report says which messages failed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pydantic import BaseModel, ConfigDict

from crossdock.money import Money
from crossdock.partners.amazon_feeds import feed_document, feed_envelope

PAYMENT_ADJUSTMENT = "POST_PAYMENT_ADJUSTMENT_DATA"


class AdjustedItem(BaseModel):
    """What is refunded on one order item: the goods and the shipping components."""

    model_config = ConfigDict(frozen=True)

    order_item_id: str
    principal: Money
    shipping: Money | None = None


def payment_adjustment(
    order_id: str,
    adjustment_id: str,
    items: list[AdjustedItem],
    reason: str = "CustomerReturn",
    merchant: str = "CROSSDOCK",
) -> bytes:
    """An OrderAdjustment feed refunding `items` of `order_id` once (`adjustment_id`)."""
    if not items:
        raise ValueError(f"an adjustment of order {order_id} names its items")
    envelope, adjustment = feed_envelope("OrderAdjustment", merchant)
    ET.SubElement(adjustment, "AmazonOrderID").text = order_id
    ET.SubElement(adjustment, "MerchantAdjustmentID").text = adjustment_id
    for item in items:
        adjusted = ET.SubElement(adjustment, "AdjustedItem")
        ET.SubElement(adjusted, "AmazonOrderItemCode").text = item.order_item_id
        ET.SubElement(adjusted, "AdjustmentReason").text = reason
        prices = ET.SubElement(adjusted, "ItemPriceAdjustments")
        for kind, money in (("Principal", item.principal), ("Shipping", item.shipping)):
            if money is None or money.amount == 0:
                continue
            component = ET.SubElement(prices, "Component")
            ET.SubElement(component, "Type").text = kind
            amount = ET.SubElement(component, "Amount", {"currency": money.currency})
            amount.text = money.to_decimal_string()
    return feed_document(envelope)
