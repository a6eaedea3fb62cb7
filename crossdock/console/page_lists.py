"""The case lists (orders, returns, disputes) with their filter form. Its route is
`/console/{kind}`, so this router goes after every other page's."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from temporalio.client import Client

from crossdock.console.errors import ConsoleError
from crossdock.console.kinds import BY_PLURAL, KindSpec
from crossdock.console.reads import STATES, CaseFilter, cases
from crossdock.console.state import ClientDep, ConsoleState, account_scope, console_state
from crossdock.console.views import CaseSummary
from crossdock.console.web import Operator, render, require
from crossdock.identity.privacy import all_shown_to
from crossdock.identity.scope import in_scope
from crossdock.models.approval import Principal
from crossdock.models.order import Channel

router = APIRouter(prefix="/console", include_in_schema=False)


# The list's columns, in order; `columns=` picks some, `sort=` orders the rows by one
# (a leading "-" for descending; visibility itself answers newest first).
COLUMNS = ("state", "marketplace", "flags", "started", "execution", "assigned")
SORTS = ("started", "state", "marketplace", "workflow_id")


def list_filter(params: dict[str, str]) -> CaseFilter:
    """The list page's filter from its (form's) parameters; ValueError or ConsoleError
    naming what is wrong."""
    return CaseFilter.model_validate(
        {
            "state": params.get("state", ""),
            "marketplace": params.get("marketplace", ""),
            "destination": params.get("destination", "").strip().upper(),
            "needs_attention": {"yes": True, "no": False}.get(params.get("attention", "")),
            "stuck": {"yes": True, "no": False}.get(params.get("stuck", "")),
            "since": params.get("since") or None,
            "until": params.get("until") or None,
        }
    )


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
    columns: str = "",
    sort: str = "",
) -> HTMLResponse:
    """Orders, returns or disputes with the filter form, chosen columns and sort."""
    operator = require(who)
    spec = BY_PLURAL.get(kind)
    if spec is None:
        raise ConsoleError(404, "not_found", f"no list {kind!r}: orders, returns or disputes")
    form = {"state": state, "marketplace": marketplace, "attention": attention, "stuck": stuck}
    form |= {"destination": destination, "since": since, "until": until}
    form |= {"columns": columns, "sort": sort}
    shown = [c for c in columns.split(",") if c in COLUMNS] or list(COLUMNS)
    console = console_state(request)
    rows, error = await _listed(console, client, spec, form, operator.principal)
    assigned = await asyncio.to_thread(console.workday.assignees, [r.workflow_id for r in rows])
    _sort(rows, sort)
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
        columns=shown,
        all_columns=COLUMNS,
        sorts=SORTS,
        query=str(request.url.query),
    )


async def _listed(
    console: ConsoleState,
    client: Client,
    spec: KindSpec,
    form: dict[str, str],
    principal: Principal,
) -> tuple[list[CaseSummary], str]:
    """The cases the filter and the operator's account may see, or why there are none."""
    try:
        filters = list_filter(form)
        scope = await account_scope(console, principal)
        found = await cases(client, spec, filters, await console.stuck.reports(client), scope)
        rows = [r for r in found if in_scope(scope, r.workflow_id, r.marketplace, r.destination)]
        return all_shown_to(rows, principal.role), ""
    except (ConsoleError, ValueError) as err:
        return [], err.message if isinstance(err, ConsoleError) else str(err)


def _sort(rows: list[CaseSummary], sort: str) -> None:
    """Order `rows` by a column of SORTS (a leading "-": descending); others keep theirs."""
    key = sort.removeprefix("-")
    if key in SORTS:
        rows.sort(key=lambda r: str(getattr(r, key + "_at" if key == "started" else key) or ""))
        if sort.startswith("-"):
            rows.reverse()
