"""Saved views (crossdock.console.saved_views): save the list on screen, list mine with
their counts, open one by its link (shareable: it shows the opener only what their own
account may see), delete mine."""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.client import Client

from crossdock.console.errors import ConsoleError, not_found
from crossdock.console.kinds import BY_PLURAL
from crossdock.console.page_lists import list_filter
from crossdock.console.saved_views import SavedView
from crossdock.console.state import ClientDep, StateDep, account_scope
from crossdock.console.web import Operator, render, require
from crossdock.identity.scope import Scope, visibility_clause

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/views")
async def views_page(
    request: Request, who: Operator, client: ClientDep, state: StateDep, error: str = ""
) -> HTMLResponse:
    """My saved views, each with its link and how many cases it holds now."""
    operator = require(who)
    views = await asyncio.to_thread(state.views.of, operator.principal.id)
    scope = await account_scope(state, operator.principal)
    counts = await asyncio.gather(*(_count(client, v, scope) for v in views))
    rows = list(zip(views, counts, strict=True))
    return await render(request, "views.html", operator, rows=rows, error=error)


@router.post("/views")
async def save_view(
    request: Request,
    who: Operator,
    state: StateDep,
    kind: Annotated[str, Form(max_length=16)],
    name: Annotated[str, Form(max_length=100)],
    query: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Keep the list on screen under `name`, then open it."""
    operator = require(who)
    params = dict(parse_qsl(query))
    try:
        view = await asyncio.to_thread(state.views.save, operator.principal.id, name, kind, params)
    except ValueError as err:
        return RedirectResponse(f"/console/views?{urlencode({'error': str(err)})}", status_code=303)
    return RedirectResponse(view.link, status_code=303)


@router.get("/views/{view_id}")
async def open_view(view_id: int, who: Operator, state: StateDep) -> Response:
    """A view's shareable link: its list, filters, columns and sort."""
    require(who)
    view = await asyncio.to_thread(state.views.get, view_id)
    if view is None:
        raise not_found(f"no saved view {view_id}")
    return RedirectResponse(view.target, status_code=303)


@router.post("/views/{view_id}/delete")
async def delete_view(view_id: int, who: Operator, state: StateDep) -> Response:
    """Delete one of my views."""
    operator = require(who)
    if not await asyncio.to_thread(state.views.delete, operator.principal.id, view_id):
        raise not_found(f"no saved view {view_id} of {operator.principal.id}")
    return RedirectResponse("/console/views", status_code=303)


async def _count(client: Client, view: SavedView, scope: Scope) -> int | None:
    """How many cases the view holds (visibility's count; None if it cannot say)."""
    spec = BY_PLURAL[view.kind]
    try:
        filters = list_filter(view.params())
        if filters.stuck:
            return None  # stuck is the console's scan, not a search attribute
        query = filters.query(spec)
    except (ConsoleError, ValueError):
        return None
    query += visibility_clause(scope)
    return (await client.count_workflows(query)).count
