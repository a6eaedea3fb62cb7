"""How a key-authenticated partner API (Stripe, EasyPost) answers: the API key a request
carries, and a POST run once per Idempotency-Key with the partner's own refusals.

Each partner only says what differs (its error classes, how it authenticates and reads a
body, what it answers a reused or busy key); the order of the steps, and which refusals
are saved under the key, are the same everywhere and written here once.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from crossdock.sandbox.core.idempotency import IdempotencyStore, Render


class PartnerError(Exception):
    """A refusal that renders itself in its partner's error shape."""

    def response(self) -> JSONResponse:
        """The partner's error body and status."""
        raise NotImplementedError


def api_key(request: Request) -> str:
    """The key a request carries: a Bearer token, or the HTTP Basic username (as
    `curl -u key:` and the official SDKs send it); empty when there is none."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credential.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credential).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


Action = Callable[[Any, str | None], Any]


@dataclass(frozen=True)
class IdempotentPost:
    """One partner's POST: authenticated, its body read, run once per Idempotency-Key.

    Refusals before execution (authentication, an unreadable body) and `invalid` ones
    (bad parameters, unknown objects) are not saved under the key, so the client can
    fix its request and retry with the same key; a `refused` answer after execution is
    saved and replayed, and so is a crash where the partner saves its 500s (`crashed`).
    """

    scope: str
    authenticate: Callable[[Request], None]
    read: Callable[[Request], Awaitable[Any]]
    refused: type[PartnerError]
    invalid: type[PartnerError]
    conflict: Render
    in_use: Render | None = None
    crashed: Callable[[Exception], JSONResponse] | None = None
    status_code: Callable[[Request], int] = lambda _: 200

    async def __call__(
        self, store: IdempotencyStore, request: Request, action: Action
    ) -> JSONResponse:
        """Answer `request` with `action(params, idempotency_key)`'s JSON."""
        try:
            self.authenticate(request)
            params = await self.read(request)
        except PartnerError as exc:
            return exc.response()
        key = request.headers.get("Idempotency-Key")

        async def execute() -> JSONResponse:
            try:
                return JSONResponse(action(params, key), status_code=self.status_code(request))
            except self.invalid:
                raise  # propagates through the store: nothing is saved under the key
            except self.refused as exc:
                return exc.response()  # executed and refused: saved and replayed
            except Exception as exc:
                if self.crashed is None:
                    raise
                return self.crashed(exc)

        try:
            return await store.once(
                self.scope, request, key, params, execute, self.conflict, self.in_use
            )
        except self.invalid as exc:
            return exc.response()

    def get(self, request: Request, read: Callable[[], Any]) -> JSONResponse:
        """An authenticated GET, refusals in the partner's shape."""
        try:
            self.authenticate(request)
            return JSONResponse(read())
        except PartnerError as exc:
            return exc.response()
