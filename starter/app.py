"""Intake HTTP endpoints: storefront checkout and partner webhooks.

Served by the console process (architecture §1). Each endpoint answers 2xx only once the
workflow has the order or the event, so partners' at-least-once redelivery covers any
failure in between.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from temporalio.client import Client

from crossdock.api_errors import install_error_shape, refusals
from crossdock.audit import AuditLog
from crossdock.catalog import default_catalog
from crossdock.codec import codec_for
from crossdock.config import Settings
from crossdock.console import install_console
from crossdock.console.auth import cookie_session
from crossdock.console.case_scope import destination_of
from crossdock.identity import Accounts
from crossdock.partners.carrier import CarrierClient
from crossdock.partners.storefront import StorefrontClient
from crossdock.request_limits import install_request_limits
from crossdock.secrets import (
    easypost_webhook_secret,
    inbound_mail_secret,
    storefront_signing_secret,
    stripe_webhook_secret,
)
from crossdock.store import Database, upgrade
from crossdock.temporal import connect
from starter.cases import CaseDelivery, ensure_message_pollers
from starter.codec_server import create_codec_app
from starter.dispute_poller import ensure_dispute_poller
from starter.health_schedule import ensure_health_schedule
from starter.mail_intake import MailIntake, mail_intake_router
from starter.operations import install_operations
from starter.pollers import ensure_pollers
from starter.rate_limit import RateLimiter
from starter.returns import ensure_return_pollers
from starter.storefront_intake import (
    CheckoutAccepted,
    CheckoutIntake,
    Refused,
    StorefrontCheckout,
    refused_answer,
    signed_checkout,
)
from starter.tracking import TrackingRouter
from starter.webhooks_easypost import EasyPostWebhookIntake, easypost_webhook_router
from starter.webhooks_stripe import StripeWebhookIntake, dispute_policy, stripe_webhook_router

log = structlog.get_logger(__name__)


def create_intake_app(settings: Settings) -> FastAPI:
    db = Database.from_settings(settings)
    app = FastAPI(title="Crossdock intake", lifespan=functools.partial(_lifespan, settings, db))
    app.state.rate_limiter = RateLimiter(settings.intake_rate_per_second, settings.intake_burst)
    install_error_shape(app)
    install_request_limits(app, settings)
    app.add_exception_handler(Refused, refused_answer)
    app.include_router(stripe_webhook_router())
    app.include_router(easypost_webhook_router())
    app.include_router(mail_intake_router())
    # The operator console (API, web pages) shares this process and its Temporal client.
    install_console(app, settings, db)
    install_operations(app, settings, db)
    if settings.encrypt_payloads:
        _mount_codec(app, settings, db)
    _add_checkout_route(app)
    return app


@contextlib.asynccontextmanager
async def _lifespan(settings: Settings, db: Database, app: FastAPI) -> AsyncIterator[None]:
    upgrade(db)  # accounts and the audit log need the current schema
    client = await connect(settings)
    carrier = CarrierClient(settings.carrier_base_url, settings.carrier_api_key)
    storefront = StorefrontClient(settings.storefront_base_url)
    app.state.client = client
    # Stuck cases are marked, and diverged ones healed, with nobody looking.
    app.state.console.stuck.start(client)
    await _ensure_schedules(client, settings)
    _attach_intakes(app, settings, db, carrier, storefront)
    try:
        yield
    finally:
        await app.state.console.stuck.stop()
        await carrier.aclose()
        await storefront.aclose()
        db.dispose()


async def _ensure_schedules(client: Client, settings: Settings) -> None:
    """Intake owns the pollers: make sure they run whenever intake does."""
    await ensure_pollers(client, settings)
    await ensure_return_pollers(client, settings)
    await ensure_message_pollers(client, settings)
    await ensure_dispute_poller(client, settings)
    await ensure_health_schedule(client, settings)


def _attach_intakes(
    app: FastAPI,
    settings: Settings,
    db: Database,
    carrier: CarrierClient,
    storefront: StorefrontClient,
) -> None:
    """The intakes the routes hand their requests to, on the lifespan's client."""
    client = app.state.client
    tracking = TrackingRouter(client, carrier)
    app.state.easypost = EasyPostWebhookIntake(tracking, easypost_webhook_secret(settings))
    app.state.checkout = CheckoutIntake(
        client,
        settings,
        storefront,
        storefront_signing_secret(settings),
        default_catalog(),
        AuditLog(db),
    )
    app.state.mail = MailIntake(CaseDelivery(client, settings), inbound_mail_secret(settings))
    app.state.stripe = StripeWebhookIntake(
        client, stripe_webhook_secret(settings), settings.task_queue, dispute_policy(settings)
    )


def _mount_codec(app: FastAPI, settings: Settings, db: Database) -> None:
    """The payload codec endpoint the Temporal UI and CLI decode through."""
    codec = codec_for(settings)
    origins = settings.temporal_ui_origins
    # A token (CLI: --codec-auth) or the console's session cookie (the Temporal UI,
    # with "include cross-origin credentials" on) may decode.
    session = cookie_session(app.state.console.sessions)
    audit = app.state.console.audit
    accounts = Accounts(db)
    codec_app = create_codec_app(
        codec,
        accounts.by_token,
        origins,
        session,
        audit,
        scope_of=accounts.scope,
        # The client is the lifespan's, opened after this app is built.
        country_of=lambda workflow_id: destination_of(app.state.client, workflow_id),
    )
    app.mount("/codec", codec_app)


def _add_checkout_route(app: FastAPI) -> None:
    @app.post(
        "/intake/storefront/checkout",
        status_code=202,
        tags=["intake"],
        response_model=CheckoutAccepted,
        responses=refusals(400, 401, 409, 422, 429, 503),
    )
    async def storefront_checkout(
        checkout: StorefrontCheckout, replay_key: Annotated[str, Depends(signed_checkout)]
    ) -> JSONResponse:
        """A signed storefront checkout: confirmed with the shop, then its order starts
        (once). See docs/intake.md."""
        intake: CheckoutIntake = app.state.checkout
        return await intake.receive(checkout, replay_key)
