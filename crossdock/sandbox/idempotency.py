"""Idempotency-Key replay as real payment and shipping APIs do it.

Same key + same parameters → the stored response, byte for byte, even a stored error.
Same key + other parameters → 400, because the client has a bug (Stripe's
`idempotency_error`). Requests with one key run one at a time, so a retry racing the
original cannot execute twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status_code: int
    body: Any
    headers: dict[str, str]


def fingerprint(method: str, path: str, params: Any) -> str:
    canonical = json.dumps([method, path, params], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyStore:
    def __init__(self) -> None:
        self._responses: dict[tuple[str, str], StoredResponse] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _lock(self, scope: str, key: str) -> asyncio.Lock:
        return self._locks.setdefault((scope, key), asyncio.Lock())

    async def run(
        self,
        scope: str,
        key: str | None,
        request_fingerprint: str,
        handler: Callable[[], Awaitable[JSONResponse]],
        conflict: Callable[[str], JSONResponse],
    ) -> JSONResponse:
        """Run `handler` once per (scope, key); replay its response afterwards.

        `scope` separates partners (a Stripe key and an EasyPost key never collide);
        `conflict` renders the partner's own error for a key reused with other params.
        """
        if key is None:
            return await handler()
        async with self._lock(scope, key):
            stored = self._responses.get((scope, key))
            if stored is not None:
                if stored.fingerprint != request_fingerprint:
                    return conflict(key)
                return JSONResponse(
                    stored.body,
                    status_code=stored.status_code,
                    headers={**stored.headers, "Idempotent-Replayed": "true"},
                )
            response = await handler()
            self._responses[(scope, key)] = StoredResponse(
                fingerprint=request_fingerprint,
                status_code=response.status_code,
                body=json.loads(bytes(response.body)),
                headers={k: v for k, v in response.headers.items() if k.lower() == "location"},
            )
            return response
