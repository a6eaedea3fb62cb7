"""The payment provider adapter, in Stripe's wire format (works against Stripe itself).

Authorize with manual capture at checkout, capture at shipment, cancel (void) when the
order dies before shipping, refund after. Every call that moves money carries the
caller's idempotency key, so a retried activity replays instead of charging twice.
Failures arrive as `crossdock.partners.errors` types: a decline is `PartnerRejected`
with code "card_declined", 429 is `RateLimited`, 5xx and timeouts `PartnerUnavailable`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crossdock.money import Money
from crossdock.partners.http import PartnerApi

PARTNER = "stripe"


class PaymentIntentStatus(StrEnum):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


# Stripe speaks lower-case currency codes; Crossdock's Money speaks ISO 4217 upper case.
UpperCurrency = Annotated[str, AfterValidator(str.upper)]


class PaymentIntent(BaseModel):
    """The parts of a Stripe PaymentIntent Crossdock acts on. Amounts in minor units."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    status: PaymentIntentStatus
    amount: int
    currency: UpperCurrency
    amount_capturable: int = 0
    amount_received: int = 0
    capture_method: str | None = None
    latest_charge: str | None = None
    cancellation_reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @property
    def money(self) -> Money:
        """The amount the intent was created for."""
        return Money(amount=self.amount, currency=self.currency)

    @property
    def capturable(self) -> Money:
        """What is authorized and can still be captured."""
        return Money(amount=self.amount_capturable, currency=self.currency)

    @property
    def received(self) -> Money:
        """What was captured."""
        return Money(amount=self.amount_received, currency=self.currency)


class RefundStatus(StrEnum):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class Refund(BaseModel):
    """A Stripe refund. `pending` may still turn into `failed` later (webhook)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    status: RefundStatus
    amount: int
    currency: UpperCurrency
    payment_intent: str | None = None
    charge: str | None = None
    reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @property
    def money(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)


def read_stripe_error(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from Stripe's `{"error": {...}}`; a decline names its reason."""
    error = body["error"]
    code = error.get("code") or error.get("type")
    message = error.get("message")
    if error.get("decline_code"):
        message = f"{message} (decline_code={error['decline_code']})"
    return code, message


class PaymentsClient(PartnerApi):
    """Async client for a Stripe-compatible payments API (the sandbox or Stripe).

    Args:
        base_url: API root without the version, e.g. "http://127.0.0.1:8700/stripe" or
            "https://api.stripe.com".
        api_key: the secret key, sent as a Bearer token.
        http: a shared `httpx.AsyncClient`; one is created (and owned) when omitted.
        timeout: seconds per request.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(
            base_url,
            http,
            timeout,
            partner=PARTNER,
            read_error=read_stripe_error,
            headers={"Authorization": f"Bearer {api_key}"},
        )

    async def _form(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """A Stripe call: the parameters form-encoded, the answer's JSON object."""
        body: dict[str, Any] = await self._json(method, path, idempotency_key, data=form)
        return body

    async def authorize(
        self, amount: Money, payment_method: str, reference: str, idempotency_key: str
    ) -> PaymentIntent:
        """Authorize `amount` on `payment_method` without capturing it.

        Args:
            amount: what to hold on the card.
            payment_method: the provider's payment method id (never card data).
            reference: our order reference, stored as `metadata[order]`.
            idempotency_key: derived from the workflow and step, never random.

        Returns:
            The intent, normally in `requires_capture` (or `requires_action` for 3DS).

        Raises:
            PartnerRejected: the card was declined (code "card_declined", ...).
        """
        form = {
            "amount": str(amount.amount),
            "currency": amount.currency.lower(),
            "capture_method": "manual",
            "confirm": "true",
            "payment_method": payment_method,
            "metadata[order]": reference,
            "description": f"Order {reference}",
        }
        body = await self._form("POST", "/v1/payment_intents", form, idempotency_key)
        return PaymentIntent.model_validate(body)

    async def capture(
        self, intent_id: str, idempotency_key: str, amount: Money | None = None
    ) -> PaymentIntent:
        """Capture an authorization: all of it, or `amount` (the rest is released).

        Raises:
            PartnerRejected: the intent is not capturable (code
                "payment_intent_unexpected_state") or `amount` exceeds the authorization
                (code "amount_too_large").
        """
        form = {"amount_to_capture": str(amount.amount)} if amount is not None else {}
        body = await self._form(
            "POST", f"/v1/payment_intents/{intent_id}/capture", form, idempotency_key
        )
        return PaymentIntent.model_validate(body)

    async def cancel(
        self, intent_id: str, idempotency_key: str, reason: str = "requested_by_customer"
    ) -> PaymentIntent:
        """Cancel an intent, voiding its authorization.

        Args:
            reason: one of duplicate, fraudulent, requested_by_customer, abandoned.

        Raises:
            PartnerRejected: the intent was already captured or canceled (code
                "payment_intent_unexpected_state").
        """
        form = {"cancellation_reason": reason}
        body = await self._form(
            "POST", f"/v1/payment_intents/{intent_id}/cancel", form, idempotency_key
        )
        return PaymentIntent.model_validate(body)

    async def refund(self, intent_id: str, amount: Money, idempotency_key: str) -> Refund:
        """Refund `amount` of what the intent captured.

        `amount` must be in the intent's currency: Stripe refunds in the charge currency
        and takes no currency parameter.

        Raises:
            PartnerRejected: more than the unrefunded remainder (code "amount_too_large"),
                nothing left (code "charge_already_refunded") or nothing captured.
        """
        form = {"payment_intent": intent_id, "amount": str(amount.amount)}
        body = await self._form("POST", "/v1/refunds", form, idempotency_key)
        return Refund.model_validate(body)

    async def retrieve_refund(self, refund_id: str) -> Refund:
        """A refund as the provider sees it now (a pending one may since have failed)."""
        return Refund.model_validate(await self._form("GET", f"/v1/refunds/{refund_id}"))

    async def retrieve(self, intent_id: str) -> PaymentIntent:
        """The intent as the provider sees it now."""
        body = await self._form("GET", f"/v1/payment_intents/{intent_id}")
        return PaymentIntent.model_validate(body)
