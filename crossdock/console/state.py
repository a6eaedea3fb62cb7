"""What the console's routes share, built once per app (the Temporal client is the
intake app's, opened in its lifespan)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from crossdock.audit.log import AuditLog
from crossdock.console.actions import Desk
from crossdock.console.auth import Sessions, token_principal
from crossdock.console.errors import not_found
from crossdock.console.saved_views import SavedViews
from crossdock.console.stuck import StuckWatch
from crossdock.console.workday import Workday
from crossdock.identity import Accounts, ClaimSigner
from crossdock.identity.scope import Scope, in_scope
from crossdock.identity.throttle import LoginThrottle
from crossdock.models.approval import Principal


@dataclass(frozen=True)
class ConsoleState:
    accounts: Accounts
    audit: AuditLog
    signer: ClaimSigner
    sessions: Sessions
    throttle: LoginThrottle
    stuck: StuckWatch
    workday: Workday
    views: SavedViews


async def account_scope(state: ConsoleState, principal: Principal) -> Scope:
    """The marketplaces and countries `principal`'s account works on (None: every case)."""
    return await asyncio.to_thread(state.accounts.scope, principal.id)


def visible(scope: Scope, workflow_id: str) -> None:
    """A 404, as for a case that does not exist, when `workflow_id` is out of `scope`,
    judged by the id alone: for cases that carry no destination (buyer conversations),
    so a country scope reaches none. A case that may be an order: `visible_case`."""
    if not in_scope(scope, workflow_id):
        raise not_found(f"no case {workflow_id!r} for this account")


def console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


def temporal_client(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


def desk(request: Request) -> Desk:
    state = console_state(request)
    return Desk(temporal_client(request), state.signer, state.audit)


# In the spec as the API's security scheme; not refusing by itself (auto_error=False), so
# a missing or non-Bearer header gets the console's own 401 saying how to send a token.
API_TOKEN = HTTPBearer(
    scheme_name="ApiToken",
    description="An operator's API token: `crossdock users token ACCOUNT` prints one",
    auto_error=False,
)


async def api_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(API_TOKEN)],
) -> Principal:
    """The operator behind the request's API token (401 without a valid one)."""
    authorization = f"Bearer {credentials.credentials}" if credentials else ""
    return await token_principal(console_state(request).accounts, authorization)


StateDep = Annotated[ConsoleState, Depends(console_state)]
ClientDep = Annotated[Client, Depends(temporal_client)]
DeskDep = Annotated[Desk, Depends(desk)]
CurrentOperator = Annotated[Principal, Depends(api_principal)]
