"""The codec endpoints the Temporal Web UI and CLI decode payloads through.

Mounted by the console/intake app at `/codec` (`POST /codec/decode`, `/codec/encode`),
in Temporal's codec-server format: `{"payloads": [<Payload as proto JSON>]}` both ways.
Each call must carry an enabled account's API token (`Authorization: Bearer cdk_...`)
or, when the console passes a `session` check, its login cookie;
cross-origin calls are allowed from the Temporal UI's origin only, so another site open
in the operator's browser cannot use the console to decrypt.

Decrypting shows buyers' personal data, so only the roles that see it
(crossdock.identity.privacy: operator, finance, admin) may call either endpoint; a
viewer gets 403. Every call, allowed or not, goes to the audit log as `codec_decode` /
`codec_encode` with the account, the namespace and the workflow, once per workflow:
the one each payload names (crossdock.codec stamps them), else the one in the
`X-Crossdock-Workflow` header, else `namespace:{X-Namespace}` (what the Temporal UI
sends for payloads older than the stamp). An account scoped to some marketplaces may
decode only its workflows' payloads. A body that is not
`{"payloads": [...]}` in proto JSON, more than MAX_PAYLOADS payloads, or payloads this
codec cannot open answer 422 or 413, never 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from crossdock.audit.log import AuditLog, DecisionAttempt, Outcome
from crossdock.codec import CodecKeyError, EncryptionCodec, workflow_of
from crossdock.console.case_scope import CountryOf, reaches
from crossdock.console.errors import ConsoleError
from crossdock.identity import AuthenticationFailed
from crossdock.identity.privacy import sees_personal_data
from crossdock.identity.scope import Scope
from crossdock.models.approval import Principal

# The Temporal UI decodes a page of history at a time; thousands in one call are a scrape.
MAX_PAYLOADS = 1000
WORKFLOW_HEADER = "x-crossdock-workflow"

# Given a bearer token, the principal it stands for (raises AuthenticationFailed).
TokenCheck = Callable[[str], Principal]
# Given an account id, the marketplaces and countries it works on (None: every case).
ScopeCheck = Callable[[str], Scope]
# Given a request without a token, the principal of its login session, if any: how the
# Temporal UI authenticates (it sends the console's cookie when told to include
# credentials; the UI and the console are the same site).
SessionCheck = Callable[[Request], Awaitable[Principal | None]]


def create_codec_app(
    codec: EncryptionCodec,
    check_token: TokenCheck,
    ui_origins: Sequence[str],
    session: SessionCheck | None = None,
    audit: AuditLog | None = None,
    scope_of: ScopeCheck | None = None,
    country_of: CountryOf | None = None,
) -> FastAPI:
    """The `/codec` sub-application with its own CORS policy; calls go to `audit`;
    `scope_of` gives an account's marketplaces and countries (crossdock.identity.scope),
    `country_of` a case's destination (without it, a country scope decodes nothing)."""

    app = FastAPI(title="Crossdock codec server", openapi_url=None)
    app.state.check_token = check_token
    app.state.session = session
    app.state.audit = audit
    app.state.scope_of = scope_of
    app.state.country_of = country_of or _no_country
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(ui_origins),
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["authorization", "content-type", "x-namespace", WORKFLOW_HEADER],
    )

    @app.post("/encode")
    async def encode(
        body: Annotated[dict[str, Any], Body()], caller: Caller, request: Request
    ) -> dict[str, Any]:
        """Encrypt payloads (for tools that send input to workflows)."""
        return await _audited("codec_encode", codec.encode, body, caller, request)

    @app.post("/decode")
    async def decode(
        body: Annotated[dict[str, Any], Body()], caller: Caller, request: Request
    ) -> dict[str, Any]:
        """Decrypt payloads for the Temporal UI and CLI."""
        return await _audited("codec_decode", codec.decode, body, caller, request)

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


Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


async def _audited(
    action: str, transform: Transform, body: dict[str, Any], caller: Principal, request: Request
) -> dict[str, Any]:
    """Check the caller's role and scope, apply `transform`, and record the call (once
    per workflow its payloads belong to) either way."""
    namespace = request.headers.get("x-namespace", "")[:64] or "default"
    named = request.headers.get(WORKFLOW_HEADER, "")[:255] or f"namespace:{namespace}"
    workflows = [named]
    detail: dict[str, Any] = {"namespace": namespace, "payloads": 0}
    try:
        payloads = _parsed(body)
        # Payloads name their workflow (crossdock.codec); the header covers older ones.
        workflows = sorted({workflow_of(p) or named for p in payloads}) or [named]
        detail["payloads"] = len(payloads)
        if not sees_personal_data(caller.role):
            raise HTTPException(
                status_code=403,
                detail=f"a {caller.role} account does not see personal data, so it cannot "
                "decode or encode payloads (operator, finance or admin can)",
            )
        await _check_scope(request, caller, workflows)
        answer = await _apply(transform, payloads)
    except HTTPException as err:
        for workflow_id in workflows:
            refusal = str(err.detail)
            await _record(request, action, workflow_id, caller, Outcome.REFUSED, refusal, detail)
        raise
    for workflow_id in workflows:
        await _record(request, action, workflow_id, caller, Outcome.ACCEPTED, "", detail)
    return answer


async def _check_scope(request: Request, caller: Principal, workflows: list[str]) -> None:
    """A 403 unless the caller's account works on every workflow's marketplace and
    destination (a payload that names none must be named in the header by a scoped
    account)."""
    scope_of: ScopeCheck | None = request.app.state.scope_of
    if scope_of is None:
        return
    scope = await asyncio.to_thread(scope_of, caller.id)
    country_of = partial(_closed, request.app.state.country_of)
    outside = [w for w in workflows if not await reaches(scope, w, country_of)]
    if outside:
        raise HTTPException(
            status_code=403,
            detail=f"account {caller.id} works on {_described(scope)} only, not "
            f"{', '.join(outside)} (name the workflow in the X-Crossdock-Workflow header)",
        )


def _described(scope: Scope) -> str:
    if scope is None:
        return "every case"
    parts = [
        ", ".join(sorted(values)) or "nothing"
        for values in (scope.marketplaces, scope.countries)
        if values is not None
    ]
    return " in ".join(parts)


async def _no_country(workflow_id: str) -> str:
    return ""


async def _closed(country_of: CountryOf, workflow_id: str) -> str:
    try:
        return await country_of(workflow_id)
    except ConsoleError:
        return ""  # Temporal cannot say where the case ships: decode nothing, guess nothing


async def _record(
    request: Request,
    action: str,
    workflow_id: str,
    by: Principal,
    outcome: Outcome,
    reason: str,
    detail: dict[str, Any],
) -> None:
    audit: AuditLog | None = request.app.state.audit
    if audit is None:
        return
    attempt = DecisionAttempt(
        workflow_id=workflow_id,
        action=action,
        by=by,
        outcome=outcome,
        reason=reason[:500],
        detail=detail,
    )
    await asyncio.to_thread(audit.append, attempt)


def _parsed(body: dict[str, Any]) -> list[Payload]:
    try:
        payloads = json_format.ParseDict(body, Payloads())
    except (json_format.ParseError, TypeError, ValueError) as err:
        raise HTTPException(
            status_code=422, detail=f"body must be {{'payloads': [...]}} in proto JSON: {err}"
        ) from None
    if len(payloads.payloads) > MAX_PAYLOADS:
        raise HTTPException(
            status_code=413,
            detail=f"{len(payloads.payloads)} payloads in one call; send at most {MAX_PAYLOADS}",
        )
    return list(payloads.payloads)


async def _apply(transform: Transform, payloads: list[Payload]) -> dict[str, Any]:
    try:
        result = Payloads(payloads=await transform(payloads))
    except CodecKeyError as err:
        raise HTTPException(status_code=422, detail=str(err)) from None
    return json_format.MessageToDict(result)
