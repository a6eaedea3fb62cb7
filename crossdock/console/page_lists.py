"""The case lists (orders, returns, disputes) with their filter form. Its route is
`/console/{kind}`, so this router goes after every other page's."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from crossdock.console.errors import ConsoleError
from crossdock.console.kinds import BY_PLURAL
from crossdock.console.reads import STATES, CaseFilter, cases
from crossdock.console.state import ClientDep, account_scope, console_state
from crossdock.console.web import Operator, render, require
from crossdock.identity.privacy import all_shown_to
from crossdock.identity.scope import in_scope
from crossdock.models.order import Channel

router = APIRouter(prefix="/console", include_in_schema=False)


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
    operator = require(who)
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
    workday = console_state(request).workday
    assigned = await asyncio.to_thread(workday.assignees, [r.workflow_id for r in rows])
    return await render(
        request,
        "list.html",
        operator,
        spec=spec,
        rows=rows,
        form=form,
        error=error,
        states=sorted(STATES[spec.workflow_type]),
        marketplaces=[c.value for c in Channel],
        assigned=assigned,
    )
