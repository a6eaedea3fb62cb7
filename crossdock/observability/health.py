"""`/healthz`, `/readyz` and `/metrics` for every Crossdock HTTP process.

`/healthz` answers while the process can serve at all (a failing one is restarted);
`/readyz` answers 200 only while every dependency the process needs answers too (a
failing one gets no traffic: a load balancer or Kubernetes takes it out of rotation,
nothing restarts it). Each check is an async callable that raises when not ready; its
name and error go into the 503 body, which holds no secrets (checks name dependencies,
not credentials).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

Check = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_SECONDS = 2.0


async def readiness(checks: Mapping[str, Check]) -> dict[str, str]:
    """Each check's result: "ok", or why it failed (a timeout counts as failed)."""

    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
        except TimeoutError:
            return f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
        except Exception as err:  # any failure means not ready; the reason is reported
            return f"{type(err).__name__}: {err}"[:200]
        return "ok"

    results = await asyncio.gather(*(one(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))


def health_router(
    checks: Callable[[], Mapping[str, Check]],
    on_scrape: Callable[[], Awaitable[None]] | None = None,
    registry: CollectorRegistry = REGISTRY,
) -> APIRouter:
    """The three routes; `checks` is called per request (dependencies made at start-up
    are only there once the app's lifespan has run), `on_scrape` before each /metrics
    answer (to refresh gauges read from elsewhere)."""
    # Not in the OpenAPI document: they are for orchestrators, not the API's clients.
    router = APIRouter(tags=["operations"], include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process serves requests."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        """Every dependency answers (Temporal, the database...)."""
        results = await readiness(checks())
        ready = all(result == "ok" for result in results.values())
        body = {"status": "ready" if ready else "not_ready", "checks": results}
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text exposition of this process's Crossdock metrics."""
        if on_scrape is not None:
            await on_scrape()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
