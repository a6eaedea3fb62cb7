"""The intake/console process's operations routes: `/healthz`, `/readyz` (Temporal and
Crossdock's database answer), `/metrics` (Crossdock's counters and the case gauges),
the count of what intake refused, by endpoint and status, and tracing when on."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from fastapi import FastAPI
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossdock.config import Settings
from crossdock.console.case_gauges import CaseGauges
from crossdock.observability.health import Check, health_router
from crossdock.observability.metrics import INTAKE_REFUSALS
from crossdock.observability.tracing import instrument_app
from crossdock.store import Database

# What is counted as its own endpoint; any other path under the prefixes counts as
# "other", so a scanner probing random paths cannot grow the label set.
INTAKE_ENDPOINTS = frozenset(
    {"/webhooks/stripe", "/webhooks/easypost", "/intake/storefront/checkout"}
)
PREFIXES = ("/webhooks/", "/intake/")


def install_operations(app: FastAPI, settings: Settings, db: Database) -> None:
    """Add the routes and the refusal counter to the intake app."""
    gauges = CaseGauges(settings.metrics_scan_seconds)

    async def temporal() -> None:
        if not await app.state.client.service_client.check_health():
            raise RuntimeError("the Temporal frontend reports itself not serving")

    async def database() -> None:
        def ping() -> None:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        await asyncio.to_thread(ping)

    def checks() -> Mapping[str, Check]:
        if not hasattr(app.state, "client"):
            return {"temporal": _not_started}
        return {"temporal": temporal, "database": database}

    async def refresh() -> None:
        if hasattr(app.state, "client"):
            await gauges.refresh_if_stale(app.state.client)

    app.include_router(health_router(checks, on_scrape=refresh))
    app.add_middleware(RefusalCounter)
    instrument_app(app, db.engine, settings)


async def _not_started() -> None:
    raise RuntimeError("not connected yet")


class RefusalCounter:
    """Counts intake's 4xx answers (bad signatures, malformed or replayed events,
    rate limits) by endpoint and status: a rise is an attack, a rotated secret or a
    partner changing its format."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PREFIXES):
            await self.app(scope, receive, send)
            return
        endpoint = path if path in INTAKE_ENDPOINTS else "other"

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                INTAKE_REFUSALS.labels(endpoint, str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counting)
