"""Channel activities: is the order paid, and tell the channel it has shipped."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import partner_errors, refused
from crossdock.models.order import Channel, Order
from crossdock.models.order_steps import (
    ConfirmShipmentInput,
    MarketplacePayment,
    ShipmentConfirmation,
    VerifyMarketplacePaymentInput,
)
from crossdock.models.refusals import RefusalKind
from crossdock.partners.amazon import AmazonPackage
from crossdock.partners.clients import PartnerClients
from crossdock.partners.http import send

# Marketplace payment states: paid → go on; pending → wait (retry); else the sale is off.
AMAZON_PAID = {"Unshipped", "PartiallyShipped", "Shipped"}
AMAZON_PENDING = {"Pending", "PendingAvailability"}
EBAY_PAID = {"PAID"}
EBAY_PENDING = {"PENDING"}


class PaymentPending(ApplicationError):
    """The marketplace has not collected the payment yet: Temporal retries later."""


class MarketplaceActivities:
    def __init__(self, partners: PartnerClients) -> None:
        self._partners = partners

    @activity.defn
    async def verify_marketplace_payment(
        self, input: VerifyMarketplacePaymentInput
    ) -> MarketplacePayment:
        """Ask the marketplace whether it collected the buyer's payment."""
        with partner_errors():
            if input.channel is Channel.AMAZON:
                amazon = await self._partners.amazon.get_order(input.channel_order_id)
                status, paid, pending = amazon.order_status, AMAZON_PAID, AMAZON_PENDING
            elif input.channel is Channel.EBAY:
                ebay = await self._partners.ebay.get_order(input.channel_order_id)
                status, paid, pending = ebay.order_payment_status, EBAY_PAID, EBAY_PENDING
            else:
                raise refused(
                    RefusalKind.INVALID, f"channel {input.channel} does not collect payment"
                )
        if status in pending:
            raise PaymentPending(f"{input.channel} payment is {status}", type="PaymentPending")
        return MarketplacePayment(paid=status in paid, status=status)

    @activity.defn
    async def confirm_shipment(self, input: ConfirmShipmentInput) -> ShipmentConfirmation:
        """Tell the channel the order shipped, with carrier and tracking number."""
        order = input.order
        with partner_errors():
            if order.channel is Channel.AMAZON:
                confirmation = await self._confirm_amazon(order, input)
            elif order.channel is Channel.EBAY:
                confirmation = await self._partners.ebay.create_shipping_fulfillment(
                    order.channel_order_id,
                    [(item.line_id, item.quantity) for item in order.items],
                    input.tracking_code,
                    input.carrier,
                    input.shipped_at,
                )
            else:
                confirmation = await self._confirm_storefront(order, input)
        return ShipmentConfirmation(confirmation_id=confirmation)

    async def _confirm_amazon(self, order: Order, input: ConfirmShipmentInput) -> str:
        package = AmazonPackage(
            package_reference_id=str(input.package),
            carrier_code=input.carrier,
            tracking_number=input.tracking_code,
            ship_date=input.shipped_at,
            order_items=[(item.line_id, item.quantity) for item in order.items],
        )
        await self._partners.amazon.confirm_shipment(order.channel_order_id, package)
        return f"{order.channel_order_id}/{input.package}"

    async def _confirm_storefront(self, order: Order, input: ConfirmShipmentInput) -> str:
        response = await send(
            self._partners.storefront,
            "storefront",
            "POST",
            f"/orders/{order.channel_order_id}/fulfillments",
            _storefront_error,
            json={
                "tracking_number": input.tracking_code,
                "carrier": input.carrier,
                "shipped_at": input.shipped_at.isoformat(),
            },
            headers={"Idempotency-Key": input.idempotency_key},
        )
        fulfillment_id: str = response.json()["id"]
        return fulfillment_id


def _storefront_error(body: object) -> tuple[str | None, str | None]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return error.get("code"), error.get("message")
    return None, None
