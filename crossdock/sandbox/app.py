"""The partner sandbox: one ASGI app with every simulated partner under its own prefix.

/stripe/v1/...      payments (Stripe shape)        /easypost/v2/...  carrier (EasyPost)
/amazon/orders/v0/  marketplace (Amazon SP-API)    /ebay/sell/...    marketplace (eBay)
/customs/v1/...     landed cost and declarations   /storefront/...   the seller's own shop
/warehouse/v1/...   stock reservations (3PL)       /suppliers/v1/...  dropship suppliers' RMAs
/_sandbox/ledger    what every partner did, for tests
/_sandbox/faults    faults injected by the fault profile (crossdock/sandbox/faults.py)

Every partner's records live in one store (crossdock/sandbox/core/store.py), on
`config.database` when set, so a restarted sandbox resumes where the partners were.
docs/sandbox.md has the floor plan.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from crossdock.observability.health import health_router
from crossdock.sandbox import mail, storefront, suppliers
from crossdock.sandbox.amazon import routes as amazon
from crossdock.sandbox.amazon.headers import AmazonHeadersMiddleware
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.core.fault_injection import (
    TRANSPORT_KEY,
    FaultInjector,
    FaultMiddleware,
    connection_of,
    fault_routes,
)
from crossdock.sandbox.core.ledger import LedgerEntry
from crossdock.sandbox.core.store import StoreMiddleware
from crossdock.sandbox.core.unknown_routes import answer_unknown_routes
from crossdock.sandbox.customs import routes as customs
from crossdock.sandbox.easypost import routes as carrier
from crossdock.sandbox.ebay import routes as ebay
from crossdock.sandbox.stripe import routes as payments
from crossdock.sandbox.warehouse import routes as warehouse

PARTNERS = (payments, carrier, amazon, ebay, customs, storefront, mail, warehouse, suppliers)


class ConnectionAwareApp(FastAPI):
    """Keeps each request's connection in its scope before any middleware wraps
    `receive` (FastAPI's own telemetry does once a tracer provider is set), so a
    "reset" fault can still close it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = connection_of(receive)
        if transport is not None:
            scope[TRANSPORT_KEY] = transport
        await super().__call__(scope, receive, send)


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    """The sandbox app: every partner's routes, the fault layer, health and the ledger."""
    ctx = SandboxContext(config=config or SandboxConfig())
    app = ConnectionAwareApp(title="Crossdock partner sandbox", lifespan=_lifespan(ctx))
    app.state.sandbox = ctx
    answer_unknown_routes(app)
    # Added first, so innermost: a request's changes are committed before its answer
    # leaves the routes, and faults injected in front of the routes change nothing.
    app.add_middleware(StoreMiddleware, store=ctx.store)
    faults = FaultInjector(ctx.config.faults, ctx.fault_counts)
    app.add_middleware(FaultMiddleware, injector=faults)
    # Outside the faults, so a throttled answer carries the rate limit too.
    app.add_middleware(AmazonHeadersMiddleware, profile=ctx.config.faults)
    app.include_router(fault_routes(faults))
    for partner in PARTNERS:
        app.include_router(partner.build(ctx))
    _sandbox_routes(app, ctx)
    return app


def _lifespan(ctx: SandboxContext) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Runs the partners' background jobs (trackers, webhooks) while the app serves."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(job()) for job in ctx.background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ctx.http.aclose()
            ctx.store.close()

    return lifespan


def _sandbox_routes(app: FastAPI, ctx: SandboxContext) -> None:
    """Health for an orchestrator and the ledger for tests."""

    # /healthz and /readyz for an orchestrator: ready once the lifespan runs its jobs.
    async def records() -> None:
        path = ctx.store.path
        if path is not None and not path.exists():
            raise RuntimeError("the sandbox's records file is gone")

    app.include_router(health_router(lambda: {"records": records}))

    @app.get("/_sandbox/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/_sandbox/ledger")
    async def ledger(
        partner: str | None = None, kind: str | None = None, reference: str | None = None
    ) -> list[LedgerEntry]:
        """Every side effect the partners performed, oldest first."""
        return ctx.ledger.entries(partner=partner, kind=kind, reference=reference)
