"""The inbox page, and what keeps it live without a reload: a signature of what is
waiting (one visibility listing, no status queries) that static/inbox.js asks for every
second, and the rows fragment it fetches only when the signature changed."""

from __future__ import annotations

import asyncio
import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from temporalio.client import Client

from crossdock.console.readmodel_api import open_alerts
from crossdock.console.reads import INBOX_QUERY, inbox
from crossdock.console.state import ClientDep, ConsoleState, StateDep, account_scope
from crossdock.console.views import InboxItem
from crossdock.console.web import Operator, render, require
from crossdock.identity.privacy import all_shown_to
from crossdock.identity.scope import in_scope, visibility_clause
from crossdock.identity.sessions import WebSession
from crossdock.models.approval import Principal
from workflows.search import CROSSDOCK_STATE

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("")
async def inbox_page(
    request: Request, who: Operator, client: ClientDep, state: StateDep, mine: bool = False
) -> HTMLResponse:
    """Everything waiting for a person (in the account's marketplaces): stuck cases,
    then approvals, nearest deadline first; `mine`: only the cases assigned to me."""
    operator = require(who)
    items, assigned = await _waiting(client, state, operator, mine)
    signature = await _signature(client, state, operator.principal)
    health = await open_alerts(request, await account_scope(state, operator.principal))
    context = {"items": items, "assigned": assigned, "mine": mine, "signature": signature}
    context["health"] = health
    return await render(request, "inbox.html", operator, **context)


@router.get("/inbox/rows")
async def inbox_rows(
    request: Request, who: Operator, client: ClientDep, state: StateDep, mine: bool = False
) -> HTMLResponse:
    """The inbox's rows alone (the page swaps them in)."""
    operator = require(who)
    items, assigned = await _waiting(client, state, operator, mine)
    page = await render(request, "_inbox_rows.html", operator, items=items, assigned=assigned)
    page.headers["X-Inbox-Count"] = str(len(items))
    page.headers["X-Inbox-Signature"] = await _signature(client, state, operator.principal)
    return page


@router.get("/inbox/signature")
async def inbox_signature(who: Operator, client: ClientDep, state: StateDep) -> JSONResponse:
    """Changes whenever a case joins, leaves or moves in the inbox."""
    operator = require(who)
    return JSONResponse({"signature": await _signature(client, state, operator.principal)})


async def _waiting(
    client: Client, state: ConsoleState, operator: WebSession, mine: bool
) -> tuple[list[InboxItem], dict[str, str]]:
    scope = await account_scope(state, operator.principal)
    waiting = await inbox(client, await state.stuck.reports(client), scope)
    items = [i for i in waiting if in_scope(scope, i.workflow_id, i.marketplace, i.destination)]
    items = all_shown_to(items, operator.principal.role)
    assigned = await asyncio.to_thread(state.workday.assignees, [i.workflow_id for i in items])
    if mine:
        items = [i for i in items if assigned.get(i.workflow_id) == operator.principal.id]
    return items, assigned


async def _signature(client: Client, state: ConsoleState, who: Principal) -> str:
    # Of the account's own cases only: another channel's or country's inbox moving must
    # not show (as a refresh) on this one.
    scope = await account_scope(state, who)
    seen = [
        f"{e.id}:{e.run_id}:{e.typed_search_attributes.get(CROSSDOCK_STATE) or ''}"
        async for e in client.list_workflows(INBOX_QUERY + visibility_clause(scope))
    ]
    seen.sort()
    reports = (await state.stuck.reports(client)).values()
    seen += sorted(
        f"stuck:{r.workflow_id}"
        for r in reports
        if in_scope(scope, r.workflow_id, r.marketplace, r.destination)
    )
    return hashlib.sha256("\n".join(seen).encode()).hexdigest()[:16]
