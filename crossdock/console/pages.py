"""The web console: server-rendered pages (Jinja2, plain forms) over the same reads and
actions as the JSON API: login, the inbox, a case's page and its audit timeline. The
action forms are in page_forms.py, the case lists in page_lists.py, bulk work in
page_bulk.py."""

from __future__ import annotations

import asyncio
import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crossdock.console.auth import SESSION_COOKIE, SESSION_LENGTH
from crossdock.console.case_scope import visible_case
from crossdock.console.guard import csrf_matches
from crossdock.console.reads import audit_timeline, detail
from crossdock.console.state import ClientDep, StateDep, account_scope
from crossdock.console.web import Operator, render, require
from crossdock.identity import AuthenticationFailed
from crossdock.identity.privacy import all_shown_to, shown_to
from crossdock.models.approval import DecisionAction
from crossdock.models.returns import InspectionVerdict

router = APIRouter(prefix="/console", include_in_schema=False)

LOGIN_CSRF_COOKIE = "crossdock_login"
LOGIN_FORM_SECONDS = 600


@router.get("/login")
async def login_form(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    """The login form, with a fresh CSRF token also set as a short-lived cookie."""
    token = secrets.token_urlsafe(32)
    page = await render(request, "login.html", None, error=error, csrf=token)
    page.status_code = status
    page.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_FORM_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console/login",
    )
    return page


@router.post("/login")
async def login(
    request: Request,
    state: StateDep,
    account_id: Annotated[str, Form(max_length=256)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Check the password (throttled); open a session and go to the inbox."""
    if not csrf_matches(csrf, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return await login_form(request, "The login form expired; try again.", 403)
    account = account_id.strip()
    verdict = await asyncio.to_thread(state.throttle.verdict, account)
    if verdict.locked_for > 0:
        page = await login_form(request, LOCKED, 429)
        page.headers["Retry-After"] = str(math.ceil(verdict.locked_for))
        return page
    await asyncio.sleep(verdict.delay)
    try:
        who = await asyncio.to_thread(state.accounts.by_password, account, password)
    except AuthenticationFailed:
        await asyncio.to_thread(state.throttle.failed, account)
        # Never say whether the account or the password was wrong.
        return await login_form(request, "Account id or password not accepted.", 401)
    await asyncio.to_thread(state.throttle.succeeded, account)
    opened = await state.sessions.open(who)
    response = RedirectResponse("/console", status_code=303)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=int(SESSION_LENGTH.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        # "/" not "/console": the codec server (/codec) takes it too, so the Temporal UI
        # of a logged-in operator decodes payloads.
        path="/",
    )
    return response


LOCKED = "Too many failed attempts for this account id; try again later or ask an admin."


@router.post("/logout")
async def logout(request: Request, who: Operator, state: StateDep) -> Response:
    """End the session (server-side: the cookie stops working even if kept)."""
    if who is not None:
        await state.sessions.close(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/cases/{workflow_id}")
async def case_page(
    request: Request,
    workflow_id: str,
    who: Operator,
    client: ClientDep,
    state: StateDep,
    message: str = "",
    error: str = "",
) -> HTMLResponse:
    """One case: state, the pending question with its decision form, the timeline."""
    operator = require(who)
    await visible_case(client, await account_scope(state, operator.principal), workflow_id)
    case = await detail(client, state.audit, workflow_id, state.stuck.policy)
    case = shown_to(case, operator.principal.role)
    return await render(
        request,
        "case.html",
        operator,
        case=case,
        message=message,
        error=error,
        decision_actions=list(DecisionAction),
        verdicts=list(InspectionVerdict),
    )


@router.get("/audit/{workflow_id}")
async def audit_page(
    request: Request, workflow_id: str, who: Operator, client: ClientDep, state: StateDep
) -> HTMLResponse:
    """The case's Temporal history as a human timeline, refused attempts included."""
    operator = require(who)
    await visible_case(client, await account_scope(state, operator.principal), workflow_id)
    lines = await audit_timeline(client, state.audit, workflow_id)
    lines = all_shown_to(lines, operator.principal.role)
    return await render(request, "audit.html", operator, workflow_id=workflow_id, lines=lines)
