"""eBay Sell Fulfillment API issueRefund: the seller refunds an order, or some of its line
items (how a seller cancels part of an eBay order: Post-Order cancels whole orders only).

    POST /ebay/sell/fulfillment/v1/order/{orderId}/issue_refund   -> {refundId, refundStatus}

eBay answers PENDING and settles the refund later; the sandbox settles at once, so getOrder
lists it as REFUNDED (`paymentSummary.refunds`, and `lineItems[].refunds` for line refunds).
issueRefund takes no idempotency key: a call repeating an earlier refund's `comment` and
amounts is taken as a retry and answers that refund again (one ledger entry); the same
comment with other amounts is refused. A refund beyond what is left of a line (or of the
order) is refused naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from crossdock.money import Money
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.ebay.orders import EbayOrders, refuse
from crossdock.sandbox.ebay.records import OrderRecord, RefundRecord

# ReasonForRefundEnum.
REFUND_REASONS = frozenset(
    {
        "BUYER_CANCEL",
        "BUYER_RETURN",
        "ITEM_NOT_RECEIVED",
        "SELLER_WRONG_ITEM",
        "SELLER_MISSING_ITEM",
        "SELLER_CANCEL",
        "OTHER_ADJUSTMENT",
        "ITEM_NOT_AS_DESCRIBED",
    }
)
INVALID_REFUND = 32800  # this simulator's error id for a refund eBay would refuse


class Amount(BaseModel):
    value: str = Field(min_length=1)
    currency: str = Field(min_length=3, max_length=3)


class RefundItem(BaseModel):
    lineItemId: str = Field(min_length=1)
    refundAmount: Amount


class IssueRefundRequest(BaseModel):
    reasonForRefund: str = Field(min_length=1)
    comment: str | None = Field(default=None, max_length=100)
    refundItems: list[RefundItem] | None = None
    orderLevelRefundAmount: Amount | None = None


def _money(amount: Amount, currency: str, field_name: str) -> Money:
    if amount.currency != currency:
        raise refuse(
            INVALID_REFUND,
            f"{field_name}.currency {amount.currency} is not the order's currency {currency}",
            **{f"{field_name}.currency": amount.currency},
        )
    try:
        money = Money.parse(amount.value, currency)
    except ValueError as error:
        raise refuse(
            INVALID_REFUND, f"{field_name}.value: {error}", **{f"{field_name}.value": amount.value}
        ) from error
    if money.amount <= 0:
        raise refuse(
            INVALID_REFUND,
            f"{field_name}.value {amount.value} must be positive",
            **{f"{field_name}.value": amount.value},
        )
    return money


def refunded(record: OrderRecord, line_item_id: str | None = None) -> int:
    """Minor units refunded so far, on one line or on the whole order."""
    if line_item_id is None:
        return sum(refund.amount.amount for refund in record.refunds)
    return sum(r.lines[line_item_id].amount for r in record.refunds if line_item_id in r.lines)


class EbayRefunds:
    def __init__(self, orders: EbayOrders) -> None:
        self.orders = orders
        self._ids = orders.store.counter("ebay", "refund", 1)

    def issue(self, order_id: str, request: IssueRefundRequest) -> tuple[RefundRecord, bool]:
        """Refund the order or its lines; (refund, False) when the call repeats one."""
        record = self.orders.get(order_id)
        body = request.model_dump(mode="json")
        if request.comment:
            for earlier in record.refunds:
                if earlier.comment == request.comment:
                    if earlier.request != body:
                        raise refuse(
                            INVALID_REFUND,
                            f"comment {request.comment!r} names refund {earlier.refund_id}, "
                            "issued with other amounts",
                            comment=request.comment,
                        )
                    return earlier, False
        lines = self._lines(record, request)
        amount = self._total(record, request, lines)
        refund = RefundRecord(
            refund_id=f"5{next(self._ids):09d}",
            amount=amount,
            lines=lines,
            reason=request.reasonForRefund,
            comment=request.comment,
            refunded_at=datetime.now(UTC),
            request=body,
        )
        record.refunds.append(refund)
        record.last_modified = refund.refunded_at
        return refund, True

    def _lines(self, record: OrderRecord, request: IssueRefundRequest) -> dict[str, Money]:
        if request.reasonForRefund not in REFUND_REASONS:
            raise refuse(
                INVALID_REFUND,
                f"reasonForRefund {request.reasonForRefund!r} is not one of "
                f"{', '.join(sorted(REFUND_REASONS))}",
                reasonForRefund=request.reasonForRefund,
            )
        if (request.refundItems is None) == (request.orderLevelRefundAmount is None):
            raise refuse(
                INVALID_REFUND, "give either refundItems or orderLevelRefundAmount, not both"
            )
        known = {line.line_item_id: line for line in record.lines}
        lines: dict[str, Money] = {}
        for index, item in enumerate(request.refundItems or []):
            name = f"refundItems[{index}]"
            line = known.get(item.lineItemId)
            if line is None or item.lineItemId in lines:
                raise refuse(
                    INVALID_REFUND,
                    f"{name}.lineItemId {item.lineItemId} is not a line of order {record.id}, "
                    "or is listed twice",
                    **{f"{name}.lineItemId": item.lineItemId},
                )
            money = _money(item.refundAmount, record.order.currency, f"{name}.refundAmount")
            left = (line.line_cost + line.shipping).amount - refunded(record, item.lineItemId)
            if money.amount > left:
                raise refuse(
                    INVALID_REFUND,
                    f"{name}.refundAmount {money} exceeds the {left} minor units left to "
                    f"refund on line {item.lineItemId}",
                    **{f"{name}.refundAmount.value": item.refundAmount.value},
                )
            lines[item.lineItemId] = money
        return lines

    def _total(
        self, record: OrderRecord, request: IssueRefundRequest, lines: dict[str, Money]
    ) -> Money:
        currency = record.order.currency
        if request.orderLevelRefundAmount is not None:
            amount = _money(request.orderLevelRefundAmount, currency, "orderLevelRefundAmount")
        else:
            amount = Money(amount=sum(m.amount for m in lines.values()), currency=currency)
        left = record.order.order_total.amount - refunded(record)
        if amount.amount > left:
            raise refuse(
                INVALID_REFUND,
                f"the refund of {amount} exceeds the {left} minor units left on order {record.id}",
                orderId=record.id,
            )
        return amount


def add_routes(
    router: APIRouter, orders: EbayOrders, ctx: SandboxContext, auth: list[Any], api: str
) -> None:
    """Add issueRefund to the eBay router (same order book, same bearer check)."""
    refunds = EbayRefunds(orders)

    @router.post(f"{api}/order/{{order_id}}/issue_refund", dependencies=auth)
    async def issue_refund(order_id: str, request: IssueRefundRequest) -> Any:
        """issueRefund: refund the order or some line items (PENDING; settles at once)."""
        refund, created = refunds.issue(order_id, request)
        if created:
            ctx.ledger.record(
                partner="ebay",
                kind="refund",
                reference=order_id,
                money=refund.amount,
                refund_id=refund.refund_id,
                reason=refund.reason,
                line_items={k: v.amount for k, v in refund.lines.items()},
                comment=refund.comment,
            )
        return {"refundId": refund.refund_id, "refundStatus": "PENDING"}
