"""What the console's routes share, built once per app (the Temporal client is the
intake app's, opened in its lifespan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from temporalio.client import Client

from crossdock.audit.log import AuditLog
from crossdock.console.actions import Desk
from crossdock.console.auth import Sessions, token_principal
from crossdock.identity import Accounts, ClaimSigner
from crossdock.identity.throttle import LoginThrottle
from crossdock.models.approval import Principal


@dataclass(frozen=True)
class ConsoleState:
    accounts: Accounts
    audit: AuditLog
    signer: ClaimSigner
    sessions: Sessions
    throttle: LoginThrottle


def console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


def temporal_client(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


def desk(request: Request) -> Desk:
    state = console_state(request)
    return Desk(temporal_client(request), state.signer, state.audit)


async def api_principal(
    request: Request, authorization: Annotated[str, Header()] = ""
) -> Principal:
    """The operator behind the request's API token (401 without a valid one)."""
    return await token_principal(console_state(request).accounts, authorization)


StateDep = Annotated[ConsoleState, Depends(console_state)]
ClientDep = Annotated[Client, Depends(temporal_client)]
DeskDep = Annotated[Desk, Depends(desk)]
CurrentOperator = Annotated[Principal, Depends(api_principal)]
