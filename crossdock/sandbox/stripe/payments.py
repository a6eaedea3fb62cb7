"""Payments in Stripe's shape: PaymentIntents with manual capture, refunds, idempotency.

    POST /stripe/v1/payment_intents                 create (and confirm with confirm=true)
    POST /stripe/v1/payment_intents/{id}/confirm    confirm with a test payment method
    POST /stripe/v1/payment_intents/{id}/capture    capture all or part of an authorization
    POST /stripe/v1/payment_intents/{id}/cancel     void an authorization
    GET  /stripe/v1/payment_intents/{id}
    POST /stripe/v1/refunds                         refund captured money (never more)
    GET  /stripe/v1/refunds/{id}

Requests are form-encoded with bracketed nesting (`metadata[order]=...`), exactly as the
official SDK sends them; amounts are integers in the currency's smallest unit; errors use
Stripe's `{"error": {"type", "code", "message", ...}}` shape and status codes. Stripe's
test payment methods decide the outcome (`pm_card_visa` succeeds,
`pm_card_chargeDeclined` is declined, ...). Every effect on money is a ledger entry.
"""

from __future__ import annotations

import time

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.stripe import form
from crossdock.sandbox.stripe.records import PaymentIntent, Refund, new_id
from crossdock.sandbox.stripe.shapes import (
    PARTNER,
    InvalidRequest,
    Json,
    Params,
    StripeError,
    payment_method_json,
)

# Stripe's test payment methods that fail, with (code, decline_code, message).
# Any other `pm_...` id is treated as a good card.
_GENERIC = ("card_declined", "generic_decline", "Your card was declined.")
_NO_FUNDS = ("card_declined", "insufficient_funds", "Your card has insufficient funds.")
_DECLINES: dict[str, tuple[str, str, str]] = {
    "pm_card_chargeDeclined": _GENERIC,
    "pm_card_visa_chargeDeclined": _GENERIC,
    "pm_card_chargeDeclinedInsufficientFunds": _NO_FUNDS,
    "pm_card_visa_chargeDeclinedInsufficientFunds": _NO_FUNDS,
    "pm_card_insufficientFunds": _NO_FUNDS,
    "pm_card_chargeDeclinedFraudulent": ("card_declined", "fraudulent", "Your card was declined."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card", "Your card has expired."),
    "pm_card_chargeDeclinedIncorrectCvc": (
        "incorrect_cvc",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
    ),
}

_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
_CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
_CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_CAPTURE_METHODS = ("automatic", "automatic_async", "manual")

# Parameters each endpoint accepts. Stripe refuses unknown ones, which catches client
# bugs (a misspelt `capture_method` would otherwise silently capture at once).
_CREATE_PARAMS = frozenset(
    """amount currency capture_method confirm payment_method metadata description customer
    receipt_email statement_descriptor statement_descriptor_suffix payment_method_types
    confirmation_method automatic_payment_methods return_url shipping off_session expand
    setup_future_usage payment_method_options transfer_group error_on_requires_action""".split()
)
_CONFIRM_PARAMS = frozenset(
    """payment_method return_url expand off_session receipt_email shipping
    payment_method_options error_on_requires_action""".split()
)
_CAPTURE_PARAMS = frozenset({"amount_to_capture", "metadata", "expand", "statement_descriptor"})
_CANCEL_PARAMS = frozenset({"cancellation_reason", "expand"})
_REFUND_PARAMS = frozenset({"payment_intent", "charge", "amount", "reason", "metadata", "expand"})


class Payments:
    """PaymentIntents and refunds in the record store, every money movement in the ledger."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.intents: Table[PaymentIntent] = ctx.store.table(
            PARTNER, "payment_intent", PaymentIntent
        )
        self.refunds: Table[Refund] = ctx.store.table(PARTNER, "refund", Refund)
        # charge id → payment intent id
        self.charges: Table[str] = ctx.store.table(PARTNER, "charge", str)

    def _record(self, kind: str, intent: PaymentIntent, amount: int, key: str | None) -> None:
        self.ctx.ledger.record(
            PARTNER,
            kind,
            intent.id,
            idempotency_key=key,
            amount=amount,
            currency=intent.currency.upper(),
            order=intent.order,
        )

    def intent(self, intent_id: str, param: str = "intent") -> PaymentIntent:
        found = self.intents.get(intent_id)
        if found is None:
            raise InvalidRequest(
                404,
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param=param,
            )
        return found

    def create_intent(self, params: Params, key: str | None) -> Json:
        form.refuse_unknown(params, _CREATE_PARAMS)
        form.required(params, "amount")
        amount = form.positive_int(params, "amount") or 0
        currency = form.currency(params)
        capture_method = form.choice(params, "capture_method", _CAPTURE_METHODS, "automatic_async")
        confirm = form.flag(params, "confirm")
        payment_method = form.optional_str(params, "payment_method")
        if confirm:
            _confirmable_method(payment_method)
        intent = PaymentIntent(
            id=new_id("pi"),
            amount=amount,
            currency=currency,
            capture_method=capture_method or "automatic_async",
            payment_method=payment_method,
            metadata=form.metadata(params),
            description=form.optional_str(params, "description"),
            status="requires_confirmation" if payment_method else "requires_payment_method",
        )
        self.intents[intent.id] = intent
        if confirm:
            self._confirm(intent, key)
        return intent.to_json()

    def confirm_intent(self, intent_id: str, params: Params, key: str | None) -> Json:
        form.refuse_unknown(params, _CONFIRM_PARAMS)
        intent = self.intent(intent_id)
        if intent.status not in _CONFIRMABLE:
            raise _unexpected_state(intent, "confirm", _CONFIRMABLE)
        method = form.optional_str(params, "payment_method") or intent.payment_method
        intent.payment_method = _confirmable_method(method)
        self._confirm(intent, key)
        return intent.to_json()

    def _confirm(self, intent: PaymentIntent, key: str | None) -> None:
        method = _confirmable_method(intent.payment_method)
        charge = new_id("ch")
        self.charges[charge] = intent.id
        intent.latest_charge = charge
        if method in _DECLINES:
            raise self._decline(intent, charge, *_DECLINES[method])
        intent.last_payment_error = None
        if intent.capture_method == "manual":
            intent.status = "requires_capture"
            intent.amount_capturable = intent.amount
            self._record("authorization", intent, intent.amount, key)
        else:
            intent.status = "succeeded"
            intent.amount_received = intent.amount
            self._record("capture", intent, intent.amount, key)

    def _decline(
        self, intent: PaymentIntent, charge: str, code: str, decline_code: str, message: str
    ) -> StripeError:
        # As Stripe does: the PaymentIntent survives the decline, back at
        # requires_payment_method, and the error carries it.
        error = {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
            "charge": charge,
        }
        method = payment_method_json(str(intent.payment_method), intent.created)
        intent.status = "requires_payment_method"
        intent.last_payment_error = {**error, "payment_method": method}
        return StripeError(
            402,
            message,
            type_="card_error",
            code=code,
            extra={
                "decline_code": decline_code,
                "charge": charge,
                "payment_intent": intent.to_json(),
                "payment_method": method,
            },
        )

    def capture_intent(self, intent_id: str, params: Params, key: str | None) -> Json:
        form.refuse_unknown(params, _CAPTURE_PARAMS)
        intent = self.intent(intent_id)
        if intent.status != "requires_capture":
            raise _unexpected_state(intent, "capture", ("requires_capture",))
        amount = form.positive_int(params, "amount_to_capture") or intent.amount_capturable
        if amount > intent.amount_capturable:
            raise StripeError(
                400,
                f"The amount_to_capture ({amount}) must be less than or equal to the "
                f"amount_capturable ({intent.amount_capturable}) of {intent.id}.",
                code="amount_too_large",
                param="amount_to_capture",
            )
        # A partial capture releases the rest of the authorization, as Stripe does.
        intent.amount_received = amount
        intent.amount_capturable = 0
        intent.status = "succeeded"
        self._record("capture", intent, amount, key)
        return intent.to_json()

    def cancel_intent(self, intent_id: str, params: Params, key: str | None) -> Json:
        form.refuse_unknown(params, _CANCEL_PARAMS)
        intent = self.intent(intent_id)
        reason = form.choice(params, "cancellation_reason", _CANCELLATION_REASONS, None)
        if intent.status not in _CANCELABLE:
            raise _unexpected_state(intent, "cancel", _CANCELABLE)
        released = intent.amount_capturable
        intent.status = "canceled"
        intent.amount_capturable = 0
        intent.canceled_at = int(time.time())
        intent.cancellation_reason = reason
        self._record("cancellation", intent, released, key)
        return intent.to_json()

    def create_refund(self, params: Params, key: str | None) -> Json:
        form.refuse_unknown(params, _REFUND_PARAMS)
        intent = self._refund_target(params)
        reason = form.choice(params, "reason", _REFUND_REASONS, None)
        remaining = intent.amount_received - intent.amount_refunded
        if intent.amount_received == 0:
            raise StripeError(
                400,
                f"This PaymentIntent ({intent.id}) does not have a successful charge to "
                f"refund; its status is {intent.status}.",
                code="payment_intent_unexpected_state",
                param="payment_intent",
            )
        if remaining == 0:
            raise StripeError(
                400,
                f"Charge {intent.latest_charge} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = form.positive_int(params, "amount") or remaining
        if amount > remaining:
            raise StripeError(
                400,
                f"Refund amount ({intent.money(amount)}) is greater than unrefunded amount "
                f"on charge ({intent.money(remaining)})",
                code="amount_too_large",
                param="amount",
            )
        return self._refund(intent, amount, reason, form.metadata(params), key).to_json()

    def _refund_target(self, params: Params) -> PaymentIntent:
        if params.get("payment_intent"):
            return self.intent(params["payment_intent"], param="payment_intent")
        charge = params.get("charge")
        if charge:
            if charge not in self.charges:
                raise InvalidRequest(
                    404, f"No such charge: '{charge}'", code="resource_missing", param="charge"
                )
            return self.intents[self.charges[charge]]
        raise InvalidRequest(
            400,
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
            param="payment_intent",
        )

    def _refund(
        self,
        intent: PaymentIntent,
        amount: int,
        reason: str | None,
        metadata: dict[str, str],
        key: str | None,
    ) -> Refund:
        refund = Refund(
            id=new_id("re"),
            amount=amount,
            currency=intent.currency,
            payment_intent=intent.id,
            charge=intent.latest_charge,
            reason=reason,
            metadata=metadata,
        )
        self.refunds[refund.id] = refund
        intent.amount_refunded += amount
        self.ctx.ledger.record(
            PARTNER,
            "refund",
            intent.id,
            idempotency_key=key,
            amount=amount,
            currency=intent.currency.upper(),
            order=intent.order,
            refund=refund.id,
        )
        return refund

    def refund(self, refund_id: str) -> Refund:
        found = self.refunds.get(refund_id)
        if found is None:
            raise StripeError(
                404, f"No such refund: '{refund_id}'", code="resource_missing", param="id"
            )
        return found


def _confirmable_method(method: str | None) -> str:
    if not method:
        raise InvalidRequest(
            400,
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
            param="payment_method",
        )
    if not method.startswith("pm_"):
        raise InvalidRequest(
            400,
            f"No such PaymentMethod: '{method}'",
            code="resource_missing",
            param="payment_method",
        )
    return method


def _unexpected_state(intent: PaymentIntent, verb: str, allowed: tuple[str, ...]) -> StripeError:
    past = {"capture": "captured", "cancel": "canceled", "confirm": "confirmed"}[verb]
    return StripeError(
        400,
        f"You cannot {verb} this PaymentIntent because it has a status of {intent.status}. "
        f"Only a PaymentIntent with one of the following statuses may be {past}: "
        f"{', '.join(allowed)}.",
        code="payment_intent_unexpected_state",
        extra={"payment_intent": intent.to_json()},
    )
