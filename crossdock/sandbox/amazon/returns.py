"""Amazon payment adjustments (refunds) in the sandbox: the POST_PAYMENT_ADJUSTMENT_DATA
feed, submitted through the Feeds API like the order acknowledgement (`amazon/feeds.py`).

One Message per order:

    <OrderAdjustment>
      <AmazonOrderID>...</AmazonOrderID>
      <MerchantAdjustmentID>our key</MerchantAdjustmentID>
      <AdjustedItem>
        <AmazonOrderItemCode>...</AmazonOrderItemCode>
        <AdjustmentReason>CustomerReturn</AdjustmentReason>
        <ItemPriceAdjustments>
          <Component><Type>Principal</Type><Amount currency="EUR">12.00</Amount></Component>
          <Component><Type>Shipping</Type><Amount currency="EUR">4.90</Amount></Component>
        </ItemPriceAdjustments>
      </AdjustedItem>
    </OrderAdjustment>

Each adjustment refunds the buyer once per MerchantAdjustmentID (a resubmitted feed is a
Warning and refunds nothing twice) and never more than an item's price and shipping less
what was refunded before; an unknown order or item, an unknown reason or currency, or too
much is an Error that refunds nothing. Every adjustment is one ledger entry (partner
amazon, kind refund, keyed by the MerchantAdjustmentID).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from crossdock.money import Money
from crossdock.sandbox.amazon.acknowledgements import BAD_VALUE, MessageResult, Report
from crossdock.sandbox.amazon.orders import AmazonOrders, OrderRecord
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.store import Table

PAYMENT_ADJUSTMENT = "POST_PAYMENT_ADJUSTMENT_DATA"
UNKNOWN_ORDER = 18028
TOO_MUCH = 18046
ALREADY_APPLIED = 18047
REASONS = frozenset(
    {
        "NoInventory",
        "CustomerReturn",
        "GeneralAdjustment",
        "CouldNotShip",
        "DifferentItem",
        "Abandoned",
        "CustomerCancel",
        "PriceError",
        "ProductOutofStock",
        "CustomerAddressIncorrect",
        "Exchange",
        "Other",
        "CarrierCreditDecision",
        "RiskAssessmentInformationNotValid",
        "CarrierCoverageFailure",
        "TransactionRecord",
    }
)
COMPONENTS = frozenset({"Principal", "Shipping", "Tax", "ShippingTax"})


class Refused(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


@dataclass
class AmazonAdjustments:
    orders: AmazonOrders
    ctx: SandboxContext
    # MerchantAdjustmentID -> the order it refunded.
    applied: Table[str] = field(init=False)
    # "order/item" -> minor units refunded so far.
    refunded: Table[int] = field(init=False)

    def __post_init__(self) -> None:
        self.applied = self.ctx.store.table("amazon", "adjustment", str)
        self.refunded = self.ctx.store.table("amazon", "refunded", int)

    def apply(self, feed_id: str, message: ET.Element, report: Report) -> None:
        """Apply one Message of a payment adjustment feed, reporting what went wrong."""
        message_id = message.findtext("MessageID") or "0"
        adjustment = message.find("OrderAdjustment")
        order_id = adjustment.findtext("AmazonOrderID") if adjustment is not None else None
        try:
            if adjustment is None or not order_id:
                raise Refused(BAD_VALUE, "OrderAdjustment/AmazonOrderID is required")
            key = adjustment.findtext("MerchantAdjustmentID") or ""
            if not key:
                raise Refused(BAD_VALUE, "OrderAdjustment/MerchantAdjustmentID is required")
            if key in self.applied:
                report.add(
                    MessageResult(
                        message_id,
                        "Warning",
                        ALREADY_APPLIED,
                        f"MerchantAdjustmentID {key} was applied already",
                        order_id,
                    )
                )
                return
            record = self.orders.orders.get(order_id)
            if record is None:
                raise Refused(UNKNOWN_ORDER, f"AmazonOrderID {order_id} was not found")
            amounts = self._amounts(record, adjustment)
        except Refused as refused:
            report.add(
                MessageResult(message_id, "Error", refused.code, refused.description, order_id)
            )
            return
        self.applied[key] = order_id
        total = 0
        for item_id, amount in amounts.items():
            self.refunded[f"{order_id}/{item_id}"] = (
                self.refunded.get(f"{order_id}/{item_id}", 0) + amount
            )
            total += amount
        self.ctx.ledger.record(
            partner="amazon",
            kind="refund",
            reference=order_id,
            idempotency_key=key,
            amount=total,
            currency=record.order.currency,
            feed_id=feed_id,
            items=amounts,
        )

    def _amounts(self, record: OrderRecord, adjustment: ET.Element) -> dict[str, int]:
        items = {item.order_item_id: item for item in record.items}
        amounts: dict[str, int] = {}
        for adjusted in adjustment.findall("AdjustedItem"):
            item_id = adjusted.findtext("AmazonOrderItemCode") or ""
            item = items.get(item_id)
            if item is None or item_id in amounts:
                raise Refused(
                    BAD_VALUE, f"AmazonOrderItemCode {item_id!r} is not an item, or twice"
                )
            reason = adjusted.findtext("AdjustmentReason") or ""
            if reason not in REASONS:
                raise Refused(BAD_VALUE, f"AdjustmentReason {reason!r} is not a valid reason")
            total = sum(
                self._component(component, record.order.currency)
                for component in adjusted.findall("ItemPriceAdjustments/Component")
            )
            paid = item.item_price.amount + (
                item.shipping_price.amount if item.shipping_price else 0
            )
            left = paid - self.refunded.get(f"{record.id}/{item_id}", 0)
            if total <= 0 or total > left:
                raise Refused(
                    TOO_MUCH,
                    f"item {item_id}: adjustment of {total} minor units is not within the "
                    f"{left} left to refund",
                )
            amounts[item_id] = total
        if not amounts:
            raise Refused(BAD_VALUE, "OrderAdjustment has no AdjustedItem")
        return amounts

    def _component(self, component: ET.Element, currency: str) -> int:
        kind = component.findtext("Type") or ""
        if kind not in COMPONENTS:
            raise Refused(BAD_VALUE, f"Component Type {kind!r} is not one of {sorted(COMPONENTS)}")
        amount = component.find("Amount")
        if amount is None or amount.get("currency") != currency:
            raise Refused(BAD_VALUE, f"Component {kind} needs an Amount in {currency}")
        try:
            return Money.parse(amount.text or "", currency).amount
        except ValueError as err:
            raise Refused(BAD_VALUE, f"Component {kind}: {err}") from None
