"""Payment provider activities (storefront orders): authorize, capture, void."""

from __future__ import annotations

from temporalio import activity

from activities.errors import partner_errors
from crossdock.models.order_steps import (
    AuthorizePaymentInput,
    CapturePaymentInput,
    PaymentAuthorization,
    PaymentCapture,
    PaymentRefund,
    RefundPaymentInput,
    VoidAuthorizationInput,
    VoidResult,
)
from crossdock.money import Money
from crossdock.partners.payments import PaymentsClient


class PaymentActivities:
    def __init__(self, payments: PaymentsClient) -> None:
        self._payments = payments

    @activity.defn
    async def authorize_payment(self, input: AuthorizePaymentInput) -> PaymentAuthorization:
        """Authorize (not capture) the amount due; captured later, at shipment."""
        with partner_errors():
            intent = await self._payments.authorize(
                input.amount, input.payment_method, input.reference, input.idempotency_key
            )
        return PaymentAuthorization(
            intent_id=intent.id,
            amount=Money(amount=intent.amount_capturable, currency=intent.currency),
        )

    @activity.defn
    async def capture_payment(self, input: CapturePaymentInput) -> PaymentCapture:
        with partner_errors():
            intent = await self._payments.capture(
                input.intent_id, input.idempotency_key, amount=input.amount
            )
        return PaymentCapture(
            intent_id=intent.id,
            captured=Money(amount=intent.amount_received, currency=intent.currency),
        )

    @activity.defn
    async def refund_payment(self, input: RefundPaymentInput) -> PaymentRefund:
        """Refund part or all of a captured payment, in its original currency."""
        with partner_errors():
            refund = await self._payments.refund(
                input.intent_id, input.amount, input.idempotency_key
            )
        return PaymentRefund(refund_id=refund.id, amount=refund.money, status=refund.status)

    @activity.defn
    async def void_authorization(self, input: VoidAuthorizationInput) -> VoidResult:
        """Release an authorization that will never be captured."""
        with partner_errors():
            intent = await self._payments.cancel(input.intent_id, input.idempotency_key)
        return VoidResult(reference=intent.id, status=intent.status)
