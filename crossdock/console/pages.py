"""The web console: server-rendered pages (Jinja2, plain forms) over the same reads and
actions as the JSON API. Every action posts a form and comes back to the case's page
with the workflow's answer, or its refusal, at the top."""

from __future__ import annotations

import asyncio
import math
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from crossdock.console.actions import (
    ActionBody,
    AddressBody,
    CancelBody,
    DecideBody,
    EvidenceBody,
    HoldBody,
    InspectBody,
    ResumeBody,
)
from crossdock.console.auth import SESSION_COOKIE, SESSION_LENGTH, web_session
from crossdock.console.errors import ConsoleError
from crossdock.console.guard import csrf_matches
from crossdock.console.kinds import BY_PLURAL, SPECS
from crossdock.console.reads import STATES, CaseFilter, audit_timeline, cases, detail, inbox
from crossdock.console.state import (
    ClientDep,
    StateDep,
    account_scope,
    console_state,
    desk,
    visible,
)
from crossdock.identity import AuthenticationFailed
from crossdock.identity.privacy import all_shown_to, shown_to
from crossdock.identity.scope import in_scope
from crossdock.identity.sessions import WebSession
from crossdock.models.approval import DecisionAction
from crossdock.models.order import Address, Channel
from crossdock.models.returns import InspectedLine, InspectionVerdict
from crossdock.money import Money

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)

LOGIN_CSRF_COOKIE = "crossdock_login"
LOGIN_FORM_SECONDS = 600


class LoginRequired(Exception):
    """No valid session: the page sends the browser to the login form."""


async def checked_session(request: Request) -> WebSession | None:
    """The page's session; on a form post also its CSRF token, or a 403."""
    session = await web_session(request)
    if session is not None and request.method == "POST":
        sent = (await request.form()).get("csrf", "")
        if not csrf_matches(sent if isinstance(sent, str) else "", session.csrf):
            raise ConsoleError(403, "forbidden", "the form's CSRF token is missing or stale")
    return session


Operator = Annotated[WebSession | None, Depends(checked_session)]


def _operator(who: WebSession | None) -> WebSession:
    if who is None:
        raise LoginRequired
    return who


def _page(request: Request, name: str, who: WebSession | None, **context: Any) -> HTMLResponse:
    principal = who.principal if who else None
    csrf = who.csrf if who else ""
    return templates.TemplateResponse(
        request, name, {"who": principal, "csrf": csrf, "kinds": SPECS.values(), **context}
    )


@router.get("/login")
async def login_form(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    """The login form, with a fresh CSRF token also set as a short-lived cookie."""
    token = secrets.token_urlsafe(32)
    page = _page(request, "login.html", None, error=error, csrf=token)
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


@router.get("")
async def inbox_page(
    request: Request, who: Operator, client: ClientDep, state: StateDep
) -> HTMLResponse:
    """Everything waiting for a person (in the account's marketplaces): stuck cases,
    then approvals, nearest deadline first."""
    operator = _operator(who)
    scope = await account_scope(state, operator.principal)
    waiting = await inbox(client, await state.stuck.reports(client))
    items = [i for i in waiting if in_scope(scope, i.workflow_id, i.marketplace)]
    items = all_shown_to(items, operator.principal.role)
    return _page(request, "inbox.html", operator, items=items)


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
    operator = _operator(who)
    visible(await account_scope(state, operator.principal), workflow_id)
    case = await detail(client, state.audit, workflow_id, state.stuck.policy)
    case = shown_to(case, operator.principal.role)
    return _page(
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
    operator = _operator(who)
    visible(await account_scope(state, operator.principal), workflow_id)
    lines = await audit_timeline(client, state.audit, workflow_id)
    lines = all_shown_to(lines, operator.principal.role)
    return _page(request, "audit.html", operator, workflow_id=workflow_id, lines=lines)


@router.post("/cases/{workflow_id}/decide")
async def decide_form(
    request: Request,
    workflow_id: str,
    who: Operator,
    key: Annotated[str, Form()],
    action: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    option: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    currency: Annotated[str, Form()] = "",
) -> Response:
    """The decision form."""
    try:
        body: ActionBody = DecideBody(
            key=key,
            action=DecisionAction(action),
            reason=reason,
            option=option,
            amount=Money.parse(amount.strip(), currency) if amount.strip() else None,
        )
    except ValueError as err:
        return _back(workflow_id, error=f"cannot read the form: {err}")
    return await _act(request, workflow_id, "decide", body, who)


@router.post("/cases/{workflow_id}/cancel")
async def cancel_form(
    request: Request, workflow_id: str, who: Operator, reason: Annotated[str, Form()] = ""
) -> Response:
    """The cancel form."""
    if not reason.strip():
        return _back(workflow_id, error="say why the order is cancelled (reason is required)")
    return await _act(request, workflow_id, "cancel", CancelBody(reason=reason), who)


@router.post("/cases/{workflow_id}/hold")
async def hold_form(
    request: Request, workflow_id: str, who: Operator, reason: Annotated[str, Form()] = ""
) -> Response:
    """The hold form."""
    if not reason.strip():
        return _back(workflow_id, error="say why the order is held (reason is required)")
    return await _act(request, workflow_id, "hold", HoldBody(reason=reason), who)


@router.post("/cases/{workflow_id}/resume")
async def resume_form(
    request: Request, workflow_id: str, who: Operator, reason: Annotated[str, Form()] = ""
) -> Response:
    """The resume button."""
    return await _act(request, workflow_id, "resume", ResumeBody(reason=reason), who)


@router.post("/cases/{workflow_id}/address")
async def address_form(
    request: Request,
    workflow_id: str,
    who: Operator,
    name: Annotated[str, Form()],
    line1: Annotated[str, Form()],
    city: Annotated[str, Form()],
    country: Annotated[str, Form()],
    line2: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    postal_code: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
) -> Response:
    """The corrected address of an undeliverable parcel."""
    fields = {"name": name, "line1": line1, "line2": line2, "city": city, "region": region}
    fields |= {"postal_code": postal_code, "country": country.strip().upper(), "phone": phone}
    try:
        body: ActionBody = AddressBody(address=Address.model_validate(fields))
    except ValueError as err:
        return _back(workflow_id, error=f"cannot read the address: {err}")
    return await _act(request, workflow_id, "address", body, who)


@router.post("/cases/{workflow_id}/inspect")
async def inspect_form(
    request: Request,
    workflow_id: str,
    who: Operator,
    sku: Annotated[list[str], Form()],
    verdict: Annotated[list[str], Form()],
    refund_percent: Annotated[list[str], Form()],
) -> Response:
    """The inspection form: one verdict per returned line."""
    try:
        lines = [
            InspectedLine(
                sku=s, verdict=InspectionVerdict(v), refund_percent=int(p) if p.strip() else None
            )
            for s, v, p in zip(sku, verdict, refund_percent, strict=True)
        ]
        body: ActionBody = InspectBody(lines=lines)
    except ValueError as err:
        return _back(workflow_id, error=f"cannot read the inspection: {err}")
    return await _act(request, workflow_id, "inspect", body, who)


@router.post("/cases/{workflow_id}/evidence")
async def evidence_form(
    request: Request,
    workflow_id: str,
    who: Operator,
    field: Annotated[str, Form()],
    value: Annotated[str, Form()] = "",
) -> Response:
    """Set (or, empty, remove) one field of a dispute's staged evidence."""
    try:
        body: ActionBody = EvidenceBody(fields={field.strip(): value})
    except ValueError as err:
        return _back(workflow_id, error=f"cannot read the evidence: {err}")
    return await _act(request, workflow_id, "evidence", body, who)


@router.get("/{kind}")
async def list_page(
    request: Request,
    kind: str,
    who: Operator,
    client: ClientDep,
    state: str = "",
    marketplace: str = "",
    destination: str = "",
    attention: str = "",
    stuck: str = "",
    since: str = "",
    until: str = "",
) -> HTMLResponse:
    """Orders, returns or disputes with the filter form."""
    operator = _operator(who)
    spec = BY_PLURAL.get(kind)
    if spec is None:
        raise ConsoleError(404, "not_found", f"no list {kind!r}: orders, returns or disputes")
    form = {"state": state, "marketplace": marketplace, "attention": attention, "stuck": stuck}
    form |= {"destination": destination}
    form |= {"since": since, "until": until}
    error, rows = "", []
    try:
        filters = CaseFilter.model_validate(
            {
                "state": state,
                "marketplace": marketplace,
                "destination": destination.strip().upper(),
                "needs_attention": {"yes": True, "no": False}.get(attention),
                "stuck": {"yes": True, "no": False}.get(stuck),
                "since": since or None,
                "until": until or None,
            }
        )
        console = console_state(request)
        scope = await account_scope(console, operator.principal)
        found = await cases(client, spec, filters, await console.stuck.reports(client))
        rows = [r for r in found if in_scope(scope, r.workflow_id)]
        rows = all_shown_to(rows, operator.principal.role)
    except (ConsoleError, ValueError) as err:
        error = err.message if isinstance(err, ConsoleError) else str(err)
    return _page(
        request,
        "list.html",
        operator,
        spec=spec,
        rows=rows,
        form=form,
        error=error,
        states=sorted(STATES[spec.workflow_type]),
        marketplaces=[c.value for c in Channel],
    )


async def _act(
    request: Request, workflow_id: str, action: str, body: ActionBody, who: WebSession | None
) -> Response:
    operator = _operator(who).principal
    try:
        scope = await account_scope(console_state(request), operator)
        answer = await desk(request).act(workflow_id, action, body, operator, scope)
    except ConsoleError as err:
        what = "Refused" if err.code == "refused" else "Not sent"
        return _back(workflow_id, error=f"{what}: {err.message}")
    done = ", ".join(f"{k}: {v}" for k, v in answer.result.items() if v not in (None, "", []))
    return _back(workflow_id, message=f"{action} accepted ({done})")


def _back(workflow_id: str, **flash: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in flash.items() if v})
    return RedirectResponse(f"/console/cases/{quote(workflow_id)}?{query}", status_code=303)


async def login_redirect(request: Request, err: Exception) -> Response:
    """Send a browser without a session to the login form."""
    return RedirectResponse("/console/login", status_code=303)
