"""Idempotency-Key replay as real payment and shipping APIs do it.

Same key + same parameters → the stored response, byte for byte, even a stored error
(a 500 the handler produced included). Same key + other parameters → 400, because the
client has a bug (Stripe's `idempotency_error`). A request arriving while the first one
with its key still runs either waits for it (the default) or, where the partner does
what Stripe does (`in_use`), is refused at once with 409 `idempotency_key_in_use`, which
clients retry. Stored responses live in the record store, so they survive restarts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from crossdock.sandbox.core.store import RecordStore, Table


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status_code: int
    body: Any
    headers: dict[str, str]


def fingerprint(method: str, path: str, params: Any) -> str:
    canonical = json.dumps([method, path, params], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


Render = Callable[[str], JSONResponse]


def reused_key(key: str) -> str:
    """What a partner says of a key sent again with other parameters (in its own shape)."""
    return f"Idempotency-Key {key!r} was used with other parameters"


class IdempotencyStore:
    def __init__(self, store: RecordStore | None = None) -> None:
        records = store or RecordStore()
        self._responses: Table[StoredResponse] = records.table(
            "sandbox", "idempotency", StoredResponse
        )
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._running: set[tuple[str, str]] = set()

    def _lock(self, scope: str, key: str) -> asyncio.Lock:
        return self._locks.setdefault((scope, key), asyncio.Lock())

    async def run(
        self,
        scope: str,
        key: str | None,
        request_fingerprint: str,
        handler: Callable[[], Awaitable[JSONResponse]],
        conflict: Render,
        in_use: Render | None = None,
    ) -> JSONResponse:
        """Run `handler` once per (scope, key); replay its response afterwards.

        Args:
            scope: Separates partners (a Stripe key and an EasyPost key never collide).
            conflict: Renders the partner's own error for a key reused with other params.
            in_use: Renders the partner's refusal of a key whose first request is still
                running; None makes such a request wait for the first one's answer.
        """
        if key is None:
            return await handler()
        if in_use is not None and (scope, key) in self._running:
            return in_use(key)
        async with self._lock(scope, key):
            stored = self._responses.get(f"{scope}:{key}")
            if stored is not None:
                if stored.fingerprint != request_fingerprint:
                    return conflict(key)
                return JSONResponse(
                    stored.body,
                    status_code=stored.status_code,
                    headers={**stored.headers, "Idempotent-Replayed": "true"},
                )
            self._running.add((scope, key))
            try:
                response = await handler()
            finally:
                self._running.discard((scope, key))
            self._responses[f"{scope}:{key}"] = StoredResponse(
                fingerprint=request_fingerprint,
                status_code=response.status_code,
                body=json.loads(bytes(response.body)),
                headers={k: v for k, v in response.headers.items() if k.lower() == "location"},
            )
            return response

    async def once(
        self,
        scope: str,
        request: Request,
        key: str | None,
        params: Any,
        handler: Callable[[], Awaitable[JSONResponse]],
        conflict: Render,
        in_use: Render | None = None,
    ) -> JSONResponse:
        """`run` for an HTTP request: its method, path and `params` are the fingerprint."""
        request_fingerprint = fingerprint(request.method, request.url.path, params)
        return await self.run(scope, key, request_fingerprint, handler, conflict, in_use)
