"""The Stripe-shaped API under /stripe: payments, refunds and the disputes on them."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.idempotency import fingerprint
from crossdock.sandbox.stripe import disputes as stripe_disputes
from crossdock.sandbox.stripe.form import authenticate, parse_form
from crossdock.sandbox.stripe.payments import Payments
from crossdock.sandbox.stripe.shapes import (
    PARTNER,
    InvalidRequest,
    Json,
    Params,
    StripeError,
    crashed,
    idempotency_conflict,
    key_in_use,
)

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
                PARTNER, key, request_fingerprint, execute, idempotency_conflict, key_in_use
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

    # Disputes live on the same charges, under the same /stripe prefix.
    router.include_router(stripe_disputes.build(ctx, payments))
    return router
