"""How every Stripe-shaped route answers: authentication, form decoding, idempotency."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.idempotency import fingerprint
from crossdock.sandbox.stripe.form import authenticate, parse_form
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
Parse = Callable[[Request], Awaitable[Params]]


async def _form(request: Request) -> Params:
    return parse_form(await request.body())


async def post(
    ctx: SandboxContext, request: Request, action: Action, parse: Parse = _form
) -> JSONResponse:
    """A Stripe POST: authenticated, form-decoded, run once per Idempotency-Key (the same
    key replays the stored answer, other parameters are refused, a key still running
    answers 409)."""
    # Authentication and parsing failures happen before the request "executes", so
    # (as at Stripe) they are not stored under the idempotency key.
    try:
        authenticate(request)
        params = await parse(request)
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
    """A Stripe GET: authenticated, refusals in Stripe's error shape."""
    try:
        authenticate(request)
        return JSONResponse(read())
    except StripeError as exc:
        return exc.response()
