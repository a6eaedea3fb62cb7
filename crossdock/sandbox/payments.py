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

import base64
import binascii
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crossdock.money import CURRENCY_EXPONENTS, Money
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.idempotency import fingerprint
from crossdock.sandbox.store import Table

PARTNER = "stripe"

log = logging.getLogger(__name__)

Params = dict[str, Any]
Json = dict[str, Any]

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


class StripeError(Exception):
    """A refusal rendered in Stripe's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: Json | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"type": type_, "message": message}
        if code:
            self.body["code"] = code
            self.body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            self.body["param"] = param
        self.body.update(extra or {})

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.body}, status_code=self.status)


class InvalidRequest(StripeError):
    """Refused before executing (bad or unknown parameters, unknown objects).

    As at Stripe, such a result is not saved under the idempotency key, so the client
    can fix its parameters and retry with the same key.
    """


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass
class PaymentIntent:
    """The sandbox's record of one PaymentIntent (amounts in minor units)."""

    id: str
    amount: int
    currency: str  # lower case, as Stripe answers
    capture_method: str
    payment_method: str | None
    metadata: dict[str, str]
    description: str | None
    status: str
    created: int = field(default_factory=lambda: int(time.time()))
    client_secret: str = field(default_factory=lambda: f"secret_{secrets.token_hex(12)}")
    amount_capturable: int = 0
    amount_received: int = 0
    amount_refunded: int = 0
    latest_charge: str | None = None
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    last_payment_error: Json | None = None

    @property
    def order(self) -> str | None:
        return self.metadata.get("order")

    def money(self, amount: int) -> Money:
        return Money(amount=amount, currency=self.currency.upper())

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": self.amount_capturable,
            "amount_received": self.amount_received,
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": self.capture_method,
            "client_secret": f"{self.id}_{self.client_secret}",
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": None,
            "description": self.description,
            "last_payment_error": self.last_payment_error,
            "latest_charge": self.latest_charge,
            "livemode": False,
            "metadata": dict(self.metadata),
            "next_action": None,
            "payment_method": self.payment_method,
            "payment_method_types": ["card"],
            "status": self.status,
        }


@dataclass
class Refund:
    id: str
    amount: int
    currency: str
    payment_intent: str
    charge: str | None
    reason: str | None
    metadata: dict[str, str]
    status: str = "succeeded"
    created: int = field(default_factory=lambda: int(time.time()))

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": f"txn_{self.id.removeprefix('re_')}",
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "metadata": dict(self.metadata),
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "status": self.status,
        }


# --- request parsing ------------------------------------------------------------------


def parse_form(body: bytes) -> Params:
    """Stripe's form encoding (`metadata[order]=A1`, `items[0][price]=p`) as nested dicts.

    List indices stay dict keys ("0", "1"): nothing here needs real lists, and the
    fingerprint of a request only has to be stable.
    """
    params: Params = {}
    for raw_key, value in parse_qsl(body.decode(), keep_blank_values=True):
        head, _, rest = raw_key.partition("[")
        path = [head] + [part.rstrip("]") for part in rest.split("[")] if rest else [head]
        node = params
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InvalidRequest(400, f"Invalid value for {raw_key}: {head} is not a hash.")
            node = child
        node[path[-1]] = value
    return params


def _refuse_unknown(params: Params, allowed: frozenset[str]) -> None:
    for name in params:
        if name not in allowed:
            raise InvalidRequest(400, f"Received unknown parameter: {name}", param=name)


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidRequest(
            400, f"Missing required param: {name}.", code="parameter_missing", param=name
        )
    if not isinstance(value, str):
        raise InvalidRequest(400, f"Invalid {name}: expected a string.", param=name)
    return value


def _optional_str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequest(400, f"Invalid {name}: expected a string, not a hash.", param=name)
    return value


def _positive_int(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.isdigit() or int(value) < 1:
        raise InvalidRequest(
            400,
            f"Invalid {name}: {value!r} must be a positive integer in the currency's "
            "smallest unit (e.g. 1500 for 15.00 EUR or for 1500 JPY).",
            code="parameter_invalid_integer",
            param=name,
        )
    return int(value)


def _flag(params: Params, name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise InvalidRequest(
            400, f"Invalid boolean: {name}={value!r}; use true or false.", param=name
        )
    return bool(value == "true")


def _choice(params: Params, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    value = params.get(name, default)
    if value is not None and value not in allowed:
        raise InvalidRequest(
            400, f"Invalid {name}: {value!r}; must be one of {', '.join(allowed)}.", param=name
        )
    return value


def _currency(params: Params) -> str:
    value = _required(params, "currency").lower()
    if value.upper() not in CURRENCY_EXPONENTS:
        raise InvalidRequest(
            400,
            f"Invalid currency: {value}. Supported here: "
            f"{', '.join(sorted(c.lower() for c in CURRENCY_EXPONENTS))}.",
            param="currency",
        )
    return value


def _metadata(params: Params) -> dict[str, str]:
    value = params.get("metadata", {})
    if value == "":  # Stripe clears metadata with `metadata=`
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidRequest(400, "Invalid metadata: use metadata[key]=value.", param="metadata")
    return {str(k): str(v) for k, v in value.items()}


# --- authentication -------------------------------------------------------------------


def _api_key(request: Request) -> str:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credential.strip()
    if scheme.lower() == "basic":  # curl -u sk_test_...:
        try:
            return base64.b64decode(credential).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def authenticate(request: Request) -> None:
    """Accept test secret keys only; answer 401 in Stripe's words otherwise."""
    key = _api_key(request)
    if not key:
        raise StripeError(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
        )
    if not key.startswith(("sk_test_", "rk_test_")):
        raise StripeError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")


# --- the payment provider -------------------------------------------------------------


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
        _refuse_unknown(params, _CREATE_PARAMS)
        _required(params, "amount")
        amount = _positive_int(params, "amount") or 0
        currency = _currency(params)
        capture_method = _choice(params, "capture_method", _CAPTURE_METHODS, "automatic_async")
        confirm = _flag(params, "confirm")
        payment_method = _optional_str(params, "payment_method")
        if confirm:
            _confirmable_method(payment_method)
        intent = PaymentIntent(
            id=_new_id("pi"),
            amount=amount,
            currency=currency,
            capture_method=capture_method or "automatic_async",
            payment_method=payment_method,
            metadata=_metadata(params),
            description=_optional_str(params, "description"),
            status="requires_confirmation" if payment_method else "requires_payment_method",
        )
        self.intents[intent.id] = intent
        if confirm:
            self._confirm(intent, key)
        return intent.to_json()

    def confirm_intent(self, intent_id: str, params: Params, key: str | None) -> Json:
        _refuse_unknown(params, _CONFIRM_PARAMS)
        intent = self.intent(intent_id)
        if intent.status not in _CONFIRMABLE:
            raise _unexpected_state(intent, "confirm", _CONFIRMABLE)
        method = _optional_str(params, "payment_method") or intent.payment_method
        intent.payment_method = _confirmable_method(method)
        self._confirm(intent, key)
        return intent.to_json()

    def _confirm(self, intent: PaymentIntent, key: str | None) -> None:
        method = _confirmable_method(intent.payment_method)
        charge = _new_id("ch")
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
        intent.status = "requires_payment_method"
        intent.last_payment_error = {**error, "payment_method": {"id": intent.payment_method}}
        return StripeError(
            402,
            message,
            type_="card_error",
            code=code,
            extra={
                "decline_code": decline_code,
                "charge": charge,
                "payment_intent": intent.to_json(),
            },
        )

    def capture_intent(self, intent_id: str, params: Params, key: str | None) -> Json:
        _refuse_unknown(params, _CAPTURE_PARAMS)
        intent = self.intent(intent_id)
        if intent.status != "requires_capture":
            raise _unexpected_state(intent, "capture", ("requires_capture",))
        amount = _positive_int(params, "amount_to_capture") or intent.amount_capturable
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
        _refuse_unknown(params, _CANCEL_PARAMS)
        intent = self.intent(intent_id)
        reason = _choice(params, "cancellation_reason", _CANCELLATION_REASONS, None)
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
        _refuse_unknown(params, _REFUND_PARAMS)
        intent = self._refund_target(params)
        reason = _choice(params, "reason", _REFUND_REASONS, None)
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
        amount = _positive_int(params, "amount") or remaining
        if amount > remaining:
            raise StripeError(
                400,
                f"Refund amount ({intent.money(amount)}) is greater than unrefunded amount "
                f"on charge ({intent.money(remaining)})",
                code="amount_too_large",
                param="amount",
            )
        return self._refund(intent, amount, reason, _metadata(params), key).to_json()

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
            id=_new_id("re"),
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


def crashed(error: Exception) -> JSONResponse:
    """Stripe's answer when the request broke while executing: a 500, saved under its key."""
    log.error("stripe_request_crashed", exc_info=error)
    return StripeError(
        500,
        "An unknown error occurred while processing your request.",
        type_="api_error",
    ).response()


def key_in_use(key: str) -> JSONResponse:
    """Stripe's refusal of a key whose first request is still running (clients retry)."""
    return StripeError(
        409,
        f"There is currently another in-progress request using this Idempotency-Key "
        f"('{key}'); that probably means you submitted twice, and the other request is "
        "still going through. Please try again later.",
        type_="idempotency_error",
        code="idempotency_key_in_use",
    ).response()


def _idempotency_conflict(key: str) -> JSONResponse:
    return StripeError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        type_="idempotency_error",
    ).response()


# --- routes ---------------------------------------------------------------------------

Action = Callable[[Params, str | None], Json]


def build(ctx: SandboxContext) -> APIRouter:
    """The Stripe-shaped payments API under /stripe."""
    payments = Payments(ctx)
    router = APIRouter(prefix="/stripe", tags=["stripe"])

    async def post(request: Request, action: Action) -> JSONResponse:
        # Authentication and parsing failures happen before the request "executes", so
        # (as at Stripe) they are not stored under the idempotency key.
        try:
            authenticate(request)
            params = parse_form(await request.body())
        except StripeError as exc:
            return exc.response()
        key = request.headers.get("Idempotency-Key")

        async def execute() -> JSONResponse:
            try:
                return JSONResponse(action(params, key))
            except InvalidRequest:
                raise  # propagates through the store: nothing is saved under the key
            except StripeError as exc:
                return exc.response()  # executed and refused: saved and replayed
            except Exception as exc:  # a crash: Stripe saves and replays its 500s too
                return crashed(exc)

        request_fingerprint = fingerprint("POST", request.url.path, params)
        try:
            return await ctx.idempotency.run(
                PARTNER, key, request_fingerprint, execute, _idempotency_conflict, key_in_use
            )
        except InvalidRequest as exc:
            return exc.response()

    def get(request: Request, read: Callable[[], Json]) -> JSONResponse:
        try:
            authenticate(request)
            return JSONResponse(read())
        except StripeError as exc:
            return exc.response()

    @router.post("/v1/payment_intents")
    async def create_intent(request: Request) -> JSONResponse:
        """Create a PaymentIntent; with confirm=true also authorize (or charge) it."""
        return await post(request, payments.create_intent)

    @router.get("/v1/payment_intents/{intent_id}")
    async def retrieve_intent(intent_id: str, request: Request) -> JSONResponse:
        """Retrieve a PaymentIntent."""
        return get(request, lambda: payments.intent(intent_id).to_json())

    @router.post("/v1/payment_intents/{intent_id}/confirm")
    async def confirm_intent(intent_id: str, request: Request) -> JSONResponse:
        """Confirm a PaymentIntent with its (or a given) payment method."""
        return await post(request, lambda p, k: payments.confirm_intent(intent_id, p, k))

    @router.post("/v1/payment_intents/{intent_id}/capture")
    async def capture_intent(intent_id: str, request: Request) -> JSONResponse:
        """Capture an authorized PaymentIntent, fully or partially."""
        return await post(request, lambda p, k: payments.capture_intent(intent_id, p, k))

    @router.post("/v1/payment_intents/{intent_id}/cancel")
    async def cancel_intent(intent_id: str, request: Request) -> JSONResponse:
        """Cancel a PaymentIntent, releasing any authorization."""
        return await post(request, lambda p, k: payments.cancel_intent(intent_id, p, k))

    @router.post("/v1/refunds")
    async def create_refund(request: Request) -> JSONResponse:
        """Refund captured money, never more than was received."""
        return await post(request, payments.create_refund)

    @router.get("/v1/refunds/{refund_id}")
    async def retrieve_refund(refund_id: str, request: Request) -> JSONResponse:
        """Retrieve a refund."""
        return get(request, lambda: payments.refund(refund_id).to_json())

    # Disputes live on the same charges (and under the same /stripe prefix); imported
    # here because the dispute desk builds on this module.
    from crossdock.sandbox import stripe_disputes

    router.include_router(stripe_disputes.build(ctx, payments))
    return router
