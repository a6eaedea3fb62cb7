"""How every Stripe-shaped route answers: authentication, form decoding, idempotency."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from fastapi import Request
from fastapi.responses import JSONResponse

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.http_api import IdempotentPost
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


# As at Stripe: a key whose first request still runs is refused with 409 (clients retry),
# and a request that crashed while executing is saved and replayed as its 500.
_POST = IdempotentPost(
    scope=PARTNER,
    authenticate=authenticate,
    read=_form,
    refused=StripeError,
    invalid=InvalidRequest,
    conflict=idempotency_conflict,
    in_use=key_in_use,
    crashed=crashed,
)


async def post(
    ctx: SandboxContext, request: Request, action: Action, parse: Parse = _form
) -> JSONResponse:
    """A Stripe POST: authenticated, form-decoded (or read by `parse`), run once per
    Idempotency-Key (the same key replays the stored answer, other parameters are
    refused, a key still running answers 409)."""
    shape = _POST if parse is _form else replace(_POST, read=parse)
    return await shape(ctx.idempotency, request, action)


def get(request: Request, read: Callable[[], Json]) -> JSONResponse:
    """A Stripe GET: authenticated, refusals in Stripe's error shape."""
    return _POST.get(request, read)
