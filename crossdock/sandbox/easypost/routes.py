"""The EasyPost-shaped HTTP API under /easypost, served by a `Carrier`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.http_api import IdempotentPost, api_key
from crossdock.sandbox.easypost.carrier import Carrier
from crossdock.sandbox.easypost.claims import ClaimDesk
from crossdock.sandbox.easypost.shapes import PARTNER, EasyPostError, InvalidRequest, Json


def authenticate(request: Request) -> None:
    """Any non-empty key is accepted: the sandbox has one test account."""
    if not api_key(request):
        raise EasyPostError(
            401,
            "UNAUTHORIZED",
            "An API key is required: send it as the HTTP Basic username or a Bearer token.",
        )


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise EasyPostError(400, "BAD_REQUEST", f"The body is not valid JSON: {exc}.") from exc


def _conflict(key: str) -> JSONResponse:
    # EasyPost documents no idempotency error; the code is the sandbox's own.
    return EasyPostError(
        400,
        "IDEMPOTENCY.KEY.REUSED",
        f"Idempotency-Key {key!r} was already used with other parameters; use a new key "
        "for a different request.",
    ).response()


def _created(request: Request) -> int:
    # EasyPost answers 201 for a new shipment, address or claim, 200 for actions on them
    # (create_and_verify included).
    return (
        201 if request.url.path.endswith(("/v2/shipments", "/v2/addresses", "/v2/claims")) else 200
    )


_POST = IdempotentPost(
    scope=PARTNER,
    authenticate=authenticate,
    read=_json_body,
    refused=EasyPostError,
    invalid=InvalidRequest,
    conflict=_conflict,
    status_code=_created,
)

Action = Callable[[Any, str | None], Json]
Post = Callable[[Request, Action], Awaitable[JSONResponse]]
Get = Callable[[Request, Callable[[], Json]], JSONResponse]


def build_router(carrier: Carrier) -> APIRouter:
    """The EasyPost-shaped API under /easypost, served by `carrier`."""
    router = APIRouter(prefix="/easypost", tags=["easypost"])

    async def post(request: Request, action: Action) -> JSONResponse:
        return await _POST(carrier.ctx.idempotency, request, action)

    _shipment_routes(router, carrier, post, _POST.get)
    _address_routes(router, carrier, post, _POST.get)
    _claim_routes(router, carrier.claims, post, _POST.get)
    _sandbox_routes(router, carrier)
    return router


def _shipment_routes(router: APIRouter, carrier: Carrier, post: Post, get: Get) -> None:
    @router.post("/v2/shipments")
    async def create_shipment(request: Request) -> JSONResponse:
        """Create a shipment and rate it."""
        return await post(request, lambda body, _: carrier.create_shipment(body))

    @router.get("/v2/shipments/{shipment_id}")
    async def retrieve_shipment(shipment_id: str, request: Request) -> JSONResponse:
        """Retrieve a shipment with its current tracker."""
        return get(request, lambda: carrier.render(shipment_id))

    @router.post("/v2/shipments/{shipment_id}/buy")
    async def buy_shipment(shipment_id: str, request: Request) -> JSONResponse:
        """Buy one of the shipment's rates: label, tracking code and tracker."""
        return await post(request, lambda body, key: carrier.buy(shipment_id, body, key))

    @router.post("/v2/shipments/{shipment_id}/insure")
    async def insure_shipment(shipment_id: str, request: Request) -> JSONResponse:
        """Insure a bought label (US dollars)."""
        return await post(request, lambda body, key: carrier.insure(shipment_id, body, key))

    @router.post("/v2/shipments/{shipment_id}/refund")
    async def refund_shipment(shipment_id: str, request: Request) -> JSONResponse:
        """Void an unused label."""
        return await post(request, lambda _, key: carrier.refund(shipment_id, key))

    @router.get("/v2/trackers/{tracker_id}")
    async def retrieve_tracker(tracker_id: str, request: Request) -> JSONResponse:
        """Retrieve a tracker with its tracking details."""
        return get(request, lambda: carrier.tracker(tracker_id))


def _address_routes(router: APIRouter, carrier: Carrier, post: Post, get: Get) -> None:
    @router.post("/v2/addresses")
    async def create_address(request: Request) -> JSONResponse:
        """Create an address, verified when the body sends `verify` or `verify_strict`."""
        return await post(request, lambda body, _: carrier.create_address(body))

    @router.post("/v2/addresses/create_and_verify")
    async def create_and_verify_address(request: Request) -> JSONResponse:
        """Create and verify an address; an undeliverable one is refused."""
        return await post(
            request, lambda body, _: {"address": carrier.create_address(body, strict=True)}
        )

    @router.get("/v2/addresses/{address_id}")
    async def retrieve_address(address_id: str, request: Request) -> JSONResponse:
        """Retrieve an address."""
        return get(request, lambda: carrier.address(address_id))


def _claim_routes(router: APIRouter, claims: ClaimDesk, post: Post, get: Get) -> None:
    @router.post("/v2/claims")
    async def create_claim(request: Request) -> JSONResponse:
        """File a claim for a lost, damaged or stolen parcel."""
        return await post(request, claims.file)

    @router.get("/v2/claims/{claim_id}")
    async def retrieve_claim(claim_id: str, request: Request) -> JSONResponse:
        """Retrieve a claim."""
        return get(request, lambda: claims.get(claim_id))


def _sandbox_routes(router: APIRouter, carrier: Carrier) -> None:
    """Controls EasyPost does not have: tests and demos force what a parcel goes through."""

    async def control(request: Request, action: Callable[[Any], Json]) -> JSONResponse:
        try:
            return JSONResponse(action(await _json_body(request)))
        except EasyPostError as exc:
            return exc.response()

    @router.post("/_sandbox/shipments/{shipment_id}/scenario")
    async def force_scenario(shipment_id: str, request: Request) -> JSONResponse:
        """Make a shipment's parcel follow a scenario: {"scenario": "lost"}."""
        return await control(request, lambda body: carrier.force_scenario(shipment_id, body))

    @router.get("/_sandbox/shipments/{shipment_id}/scenario")
    async def shipment_scenario(shipment_id: str, request: Request) -> JSONResponse:
        """The scenario a shipment's parcel follows, with its planned scans."""
        return await control(request, lambda _: carrier.scenario_of(shipment_id))

    @router.post("/_sandbox/scenarios")
    async def force_scenario_for_reference(request: Request) -> JSONResponse:
        """Make the next label bought for a reference follow a scenario:
        {"reference": "order-...", "scenario": "lost"}."""
        return await control(request, carrier.force_scenario_for_reference)


def build(ctx: SandboxContext) -> APIRouter:
    """The carrier API, with its tracker loop registered as a background job."""
    carrier = Carrier(ctx)
    ctx.background.append(carrier.run)
    return build_router(carrier)
