"""The codec endpoints the Temporal Web UI and CLI decode payloads through.

Mounted by the console/intake app at `/codec` (`POST /codec/decode`, `/codec/encode`),
in Temporal's codec-server format: `{"payloads": [<Payload as proto JSON>]}` both ways.
Each call must carry an enabled account's API token (`Authorization: Bearer cdk_...`)
or, when the console passes a `session` check, its login cookie;
cross-origin calls are allowed from the Temporal UI's origin only, so another site open
in the operator's browser cannot use the console to decrypt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from crossdock.codec import CodecKeyError, EncryptionCodec
from crossdock.identity import AuthenticationFailed
from crossdock.models.approval import Principal

# Given a bearer token, the principal it stands for (raises AuthenticationFailed).
TokenCheck = Callable[[str], Principal]
# Given a request without a token, the principal of its login session, if any: how the
# Temporal UI authenticates (it sends the console's cookie when told to include
# credentials; the UI and the console are the same site).
SessionCheck = Callable[[Request], Awaitable[Principal | None]]


def create_codec_app(
    codec: EncryptionCodec,
    check_token: TokenCheck,
    ui_origins: Sequence[str],
    session: SessionCheck | None = None,
) -> FastAPI:
    """The `/codec` sub-application with its own CORS policy."""

    app = FastAPI(title="Crossdock codec server", openapi_url=None)
    app.state.check_token = check_token
    app.state.session = session
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(ui_origins),
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["authorization", "content-type", "x-namespace"],
    )

    @app.post("/encode")
    async def encode(body: Annotated[dict[str, Any], Body()], caller: Caller) -> dict[str, Any]:
        """Encrypt payloads (for tools that send input to workflows)."""
        return await _apply(codec.encode, body)

    @app.post("/decode")
    async def decode(body: Annotated[dict[str, Any], Body()], caller: Caller) -> dict[str, Any]:
        """Decrypt payloads for the Temporal UI and CLI."""
        return await _apply(codec.decode, body)

    return app


async def _caller(request: Request, authorization: Annotated[str, Header()] = "") -> Principal:
    """The account behind the request's bearer token or login session; 401 without."""
    scheme, _, token = authorization.partition(" ")
    session: SessionCheck | None = request.app.state.session
    if not authorization and session is not None:
        principal = await session(request)
        if principal is not None:
            return principal
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status_code=401,
            detail="send an API token: Authorization: Bearer cdk_... "
            "(crossdock users token ACCOUNT)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    check_token: TokenCheck = request.app.state.check_token
    try:
        return await asyncio.to_thread(check_token, token.strip())
    except AuthenticationFailed:
        raise HTTPException(
            status_code=401,
            detail="API token not accepted (unknown, revoked, or account disabled)",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None


Caller = Annotated[Principal, Depends(_caller)]


async def _apply(
    transform: Callable[[Sequence[Payload]], Awaitable[list[Payload]]], body: dict[str, Any]
) -> dict[str, Any]:
    try:
        payloads = json_format.ParseDict(body, Payloads())
    except json_format.ParseError as err:
        raise HTTPException(
            status_code=422, detail=f"body must be {{'payloads': [...]}} in proto JSON: {err}"
        ) from None
    try:
        result = Payloads(payloads=await transform(payloads.payloads))
    except CodecKeyError as err:
        raise HTTPException(status_code=422, detail=str(err)) from None
    return json_format.MessageToDict(result)
