"""Intake HTTP endpoints: storefront checkout and partner webhooks.

Served by the console process (design §1). Each endpoint answers 2xx only once the
workflow has the order or the event, so partners' at-least-once redelivery covers any
failure in between.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import structlog
from fastapi import Body, FastAPI, HTTPException, Request

from crossdock.codec import codec_for
from crossdock.config import Settings
from crossdock.console import install_console
from crossdock.console.auth import cookie_session
from crossdock.identity import Accounts
from crossdock.install_secrets import stripe_webhook_secret
from crossdock.models.order import Channel, Order
from crossdock.partners.carrier import CarrierClient, NotATrackerEvent
from crossdock.partners.errors import PartnerError
from crossdock.store import Database, upgrade
from crossdock.temporal import connect
from starter.codec_server import create_codec_app
from starter.dispute_poller import ensure_dispute_poller
from starter.orders import start_order
from starter.pollers import ensure_pollers
from starter.returns import ensure_return_pollers
from starter.tracking import TrackingRouter
from starter.webhooks_stripe import StripeWebhookIntake, dispute_policy, stripe_webhook_router

log = structlog.get_logger(__name__)

TRACKER_EVENTS = {"tracker.created", "tracker.updated"}


def create_intake_app(settings: Settings) -> FastAPI:
    db = Database.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(db)  # accounts and the audit log need the current schema
        client = await connect(settings)
        carrier = CarrierClient(settings.carrier_base_url, settings.carrier_api_key)
        app.state.client = client
        # Intake owns the pollers: make sure they run whenever intake does.
        await ensure_pollers(client, settings)
        await ensure_return_pollers(client, settings)
        await ensure_dispute_poller(client, settings)
        app.state.tracking = TrackingRouter(client, carrier)
        app.state.stripe = StripeWebhookIntake(
            client, stripe_webhook_secret(settings), settings.task_queue, dispute_policy(settings)
        )
        try:
            yield
        finally:
            await carrier.aclose()
            db.dispose()

    app = FastAPI(title="Crossdock intake", lifespan=lifespan)
    app.include_router(stripe_webhook_router())
    # The operator console (API, web pages) shares this process and its Temporal client.
    install_console(app, settings, db)
    if settings.encrypt_payloads:
        codec = codec_for(settings)
        origins = settings.temporal_ui_origins
        # A token (CLI: --codec-auth) or the console's session cookie (the Temporal UI,
        # with "include cross-origin credentials" on) may decode.
        session = cookie_session(app.state.console.sessions)
        audit = app.state.console.audit
        accounts = Accounts(db)
        codec_app = create_codec_app(
            codec, accounts.by_token, origins, session, audit, scope_of=accounts.scope
        )
        app.mount("/codec", codec_app)

    @app.post("/intake/storefront/checkout", status_code=202)
    async def storefront_checkout(order: Order, request: Request) -> dict[str, Any]:
        """A storefront checkout: start its order workflow (once)."""
        if order.channel is not Channel.STOREFRONT:
            raise HTTPException(
                status_code=422,
                detail=f"channel {order.channel.value!r} cannot check out here; "
                "expected 'storefront'",
            )
        started = await start_order(request.app.state.client, order, settings)
        return {"workflow_id": order.workflow_id, "started": started}

    @app.post("/webhooks/easypost")
    async def carrier_webhook(
        body: Annotated[dict[str, Any], Body()], request: Request
    ) -> dict[str, str]:
        """EasyPost tracker events → signals to the order."""
        if body.get("description") not in TRACKER_EVENTS:
            return {"status": "ignored"}
        try:
            workflow_id = await request.app.state.tracking.deliver(body)
        except NotATrackerEvent as err:
            # Acknowledge: redelivering a malformed event would never succeed.
            log.warning("tracker_event_refused", error=str(err))
            return {"status": "refused", "reason": str(err)}
        except PartnerError as err:
            # The carrier could not tell us the shipment's order right now: answer 503 so
            # the carrier redelivers the event later.
            log.warning("tracker_event_deferred", error=str(err))
            raise HTTPException(status_code=503, detail=f"retry later: {err}") from None
        return {"status": "delivered", "workflow_id": workflow_id}

    return app
