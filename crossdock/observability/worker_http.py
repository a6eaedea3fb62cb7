"""The worker's `/healthz`, `/readyz` and `/metrics` (a worker has no other HTTP).

Ready means: the worker polls its task queue and Temporal's frontend answers. A
replica that is not ready still finishes what it holds; the orchestrator only stops
counting it (and, with a rolling deploy, waits before retiring the previous one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from crossdock.observability.health import Check, health_router


def worker_health_app(client: Client, polling: Callable[[], bool]) -> FastAPI:
    """The three routes over this worker's client and its running flag."""

    async def temporal() -> None:
        if not await client.service_client.check_health():
            raise RuntimeError("the Temporal frontend reports itself not serving")

    async def worker() -> None:
        if not polling():
            raise RuntimeError("the worker is not polling its task queue")

    def checks() -> Mapping[str, Check]:
        return {"temporal": temporal, "worker": worker}

    app = FastAPI(title="Crossdock worker", openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(health_router(checks))
    return app


class BackgroundServer:
    """An ASGI app served by uvicorn inside the caller's event loop."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
        )
        self._where = f"{host}:{port}"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve; return once listening (raise why not: a port taken)."""
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"the health server on {self._where} stopped at start")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop serving and wait until the port is closed."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task
