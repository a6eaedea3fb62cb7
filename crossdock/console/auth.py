"""Who is asking: an API token (`Authorization: Bearer cdk_...`) for the JSON API and the
CLI, a session cookie for the web pages (set by a password login).

The cookie holds a random token whose session lives server-side
(crossdock.identity.sessions): logout and disabling the account end it at once. Cookies
are HttpOnly and SameSite=Strict; that alone does not stop a page on another port of the
same host (the same *site*), so every state-changing request is also checked for its
Origin and every form for the session's CSRF token (crossdock.console.guard).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import Request

from crossdock.console.errors import ConsoleError
from crossdock.identity import Accounts, AuthenticationFailed
from crossdock.identity.sessions import SESSION_LENGTH, OpenedSession, SessionStore, WebSession
from crossdock.models.approval import Principal
from crossdock.store import Database

SESSION_COOKIE = "crossdock_session"

__all__ = ["SESSION_COOKIE", "SESSION_LENGTH", "Sessions"]


class Sessions:
    """Opens, reads and ends web sessions (the cookie's token is the key)."""

    def __init__(self, db: Database) -> None:
        self.store = SessionStore(db)

    async def open(self, principal: Principal) -> OpenedSession:
        return await asyncio.to_thread(self.store.open, principal.id)

    async def session(self, cookie: str) -> WebSession | None:
        """The live session behind a cookie; None when absent, ended, expired or the
        account was disabled since."""
        if not cookie or len(cookie) > 128:
            return None
        return await asyncio.to_thread(self.store.find, cookie)

    async def principal(self, cookie: str) -> Principal | None:
        found = await self.session(cookie)
        return found.principal if found else None

    async def close(self, cookie: str) -> None:
        if cookie:
            await asyncio.to_thread(self.store.close, cookie)


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


async def web_session(request: Request) -> WebSession | None:
    """The web page's session, from the cookie (None: show the login page)."""
    sessions: Sessions = request.app.state.console.sessions
    return await sessions.session(request.cookies.get(SESSION_COOKIE, ""))


async def session_principal(request: Request) -> Principal | None:
    """The web page's operator, from the session cookie (None: show the login page)."""
    found = await web_session(request)
    return found.principal if found else None


def cookie_session(sessions: Sessions) -> Callable[[Request], Awaitable[Principal | None]]:
    """The session check for an app that does not hold the console's state (the codec
    server mounted beside it): a browser logged into the console may decode in the
    Temporal UI with its session cookie."""

    async def principal(request: Request) -> Principal | None:
        return await sessions.principal(request.cookies.get(SESSION_COOKIE, ""))

    return principal
