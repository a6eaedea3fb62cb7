"""The Stripe-shaped API under /stripe: payments, refunds and the disputes on them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.stripe import disputes as stripe_disputes
from crossdock.sandbox.stripe import files as stripe_files
from crossdock.sandbox.stripe.endpoints import get, post
from crossdock.sandbox.stripe.payments import Payments


def build(ctx: SandboxContext) -> APIRouter:
    """The Stripe-shaped payments API under /stripe."""
    payments = Payments(ctx)
    router = APIRouter(prefix="/stripe", tags=["stripe"])

    @router.post("/v1/payment_intents")
    async def create_intent(request: Request) -> JSONResponse:
        """Create a PaymentIntent; with confirm=true also authorize (or charge) it."""
        return await post(ctx, request, payments.create_intent)

    @router.get("/v1/payment_intents/{intent_id}")
    async def retrieve_intent(intent_id: str, request: Request) -> JSONResponse:
        """Retrieve a PaymentIntent."""
        return get(request, lambda: payments.intent(intent_id).to_json())

    @router.post("/v1/payment_intents/{intent_id}/confirm")
    async def confirm_intent(intent_id: str, request: Request) -> JSONResponse:
        """Confirm a PaymentIntent with its (or a given) payment method."""
        return await post(ctx, request, lambda p, k: payments.confirm_intent(intent_id, p, k))

    @router.post("/v1/payment_intents/{intent_id}/capture")
    async def capture_intent(intent_id: str, request: Request) -> JSONResponse:
        """Capture an authorized PaymentIntent, fully or partially."""
        return await post(ctx, request, lambda p, k: payments.capture_intent(intent_id, p, k))

    @router.post("/v1/payment_intents/{intent_id}/cancel")
    async def cancel_intent(intent_id: str, request: Request) -> JSONResponse:
        """Cancel a PaymentIntent, releasing any authorization."""
        return await post(ctx, request, lambda p, k: payments.cancel_intent(intent_id, p, k))

    @router.post("/v1/refunds")
    async def create_refund(request: Request) -> JSONResponse:
        """Refund captured money, never more than was received."""
        return await post(ctx, request, payments.create_refund)

    @router.get("/v1/refunds/{refund_id}")
    async def retrieve_refund(refund_id: str, request: Request) -> JSONResponse:
        """Retrieve a refund."""
        return get(request, lambda: payments.refund(refund_id).to_json())

    # Disputes live on the same charges, under the same /stripe prefix, and reference
    # the files uploaded as their evidence.
    files = stripe_files.FileStore(ctx)
    router.include_router(stripe_files.build(ctx, files))
    router.include_router(stripe_disputes.build(ctx, payments, files))
    return router
