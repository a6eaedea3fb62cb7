"""Who is asking: an API token (`Authorization: Bearer cdk_...`) for the JSON API and the
CLI, a session cookie for the web pages (set by a password login).

The session cookie is a principal claim (crossdock.identity.claims) signed with a key
derived from the principal key, for the pseudo-workflow "console-session": it cannot be
replayed as a claim on a real workflow, and the derived key means a stolen cookie is
not a workflow signature either. Cookies are HttpOnly and SameSite=Strict, so another
site cannot post a form with the operator's session.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import Request
from sqlalchemy import select

from crossdock.console.errors import ConsoleError
from crossdock.identity import Accounts, AuthenticationFailed, ClaimSigner, ClaimVerifier
from crossdock.identity.tables import UserRow
from crossdock.models.approval import Principal, Role
from crossdock.store import Database

SESSION_COOKIE = "crossdock_session"
SESSION_SCOPE = "console-session"
SESSION_LENGTH = timedelta(hours=8)


class Sessions:
    """Issues and reads web session cookies; checks the account is still enabled."""

    def __init__(self, principal_key: bytes, db: Database) -> None:
        key = hmac.new(principal_key, b"crossdock console session", hashlib.sha256).digest()
        self._signer = ClaimSigner(key, SESSION_LENGTH)
        self._verifier = ClaimVerifier(key)
        self._db = db

    def cookie_for(self, principal: Principal) -> str:
        signed = self._signer.sign(principal, SESSION_SCOPE)
        return f"{principal.id}|{principal.role.value}|{signed.claim}"

    async def principal(self, cookie: str) -> Principal | None:
        """The operator a cookie stands for; None when absent, forged, expired or the
        account was disabled since."""
        account_id, _, rest = cookie.partition("|")
        role, _, claim = rest.partition("|")
        if not account_id or role not in set(Role):
            return None
        principal = Principal(id=account_id, role=Role(role), claim=claim)
        if self._verifier.refusal(principal, SESSION_SCOPE):
            return None
        if not await asyncio.to_thread(self._enabled, account_id):
            return None
        return Principal(id=account_id, role=Role(role))

    def _enabled(self, account_id: str) -> bool:
        with self._db.session() as session:
            disabled = session.scalar(
                select(UserRow.disabled).where(UserRow.account_id == account_id)
            )
        return disabled is False


async def token_principal(accounts: Accounts, authorization: str) -> Principal:
    """The account behind a bearer token, or a 401 saying how to send one."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ConsoleError(
            401,
            "unauthenticated",
            "send an API token: Authorization: Bearer cdk_... (crossdock users token ACCOUNT)",
        )
    try:
        return await asyncio.to_thread(accounts.by_token, token.strip())
    except AuthenticationFailed:
        raise ConsoleError(
            401, "unauthenticated", "API token not accepted (unknown, revoked, or account disabled)"
        ) from None


async def session_principal(request: Request) -> Principal | None:
    """The web page's operator, from the session cookie (None: show the login page)."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    sessions: Sessions = request.app.state.console.sessions
    return await sessions.principal(cookie) if cookie else None


def cookie_session(sessions: Sessions) -> Callable[[Request], Awaitable[Principal | None]]:
    """The session check for an app that does not hold the console's state (the codec
    server mounted beside it): a browser logged into the console may decode in the
    Temporal UI with its session cookie."""

    async def principal(request: Request) -> Principal | None:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        return await sessions.principal(cookie) if cookie else None

    return principal
