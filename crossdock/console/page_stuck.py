"""The stuck view: every case the last scan found stuck (crossdock.console.stuck), with
its last error, and for an admin the runbook's remedy (crossdock.console.stuck_actions)
one click away; the same remedies on the API for scripts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from crossdock.api_errors import refusals
from crossdock.console.case_scope import visible_case
from crossdock.console.errors import ConsoleError
from crossdock.console.state import (
    ClientDep,
    CurrentOperator,
    StateDep,
    account_scope,
)
from crossdock.console.stuck_actions import Remedy, apply_remedy
from crossdock.console.web import Operator, render, require
from crossdock.identity.scope import in_scope

pages = APIRouter(prefix="/console", include_in_schema=False)
api = APIRouter(prefix="/api", tags=["console"])


class RemedyBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class RemedyAnswer(BaseModel):
    workflow_id: str
    remedy: Remedy
    done: str


@pages.get("/stuck")
async def stuck_page(
    request: Request,
    who: Operator,
    client: ClientDep,
    state: StateDep,
    message: str = "",
    error: str = "",
) -> HTMLResponse:
    """Stuck cases, the oldest failure first."""
    operator = require(who)
    scope = await account_scope(state, operator.principal)
    reports = [
        r
        for r in (await state.stuck.reports(client)).values()
        if in_scope(scope, r.workflow_id, r.marketplace, r.destination)
    ]
    reports.sort(key=lambda r: (r.since or r.next_attempt_at or _never(), r.workflow_id))
    return await render(
        request, "stuck.html", operator, reports=reports, message=message, error=error
    )


@pages.post("/stuck/{workflow_id}/{remedy}")
async def remedy_form(
    request: Request,
    workflow_id: str,
    remedy: Remedy,
    who: Operator,
    client: ClientDep,
    state: StateDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """An admin's retry or reset, back to the stuck view with what was done."""
    operator = require(who).principal
    try:
        await visible_case(client, await account_scope(state, operator), workflow_id)
        report = (await state.stuck.reports(client)).get(workflow_id)
        done = await apply_remedy(
            client, state.audit, report, workflow_id, remedy, operator, reason
        )
    except ConsoleError as err:
        return RedirectResponse(f"/console/stuck?{_query(error=err.message)}", status_code=303)
    return RedirectResponse(
        f"/console/stuck?{_query(message=f'{workflow_id}: {done}')}", status_code=303
    )


@api.post(
    "/cases/{workflow_id}/stuck/{remedy}", responses=refusals(400, 401, 403, 404, 409, 422, 503)
)
async def remedy_api(
    workflow_id: str,
    remedy: Remedy,
    body: RemedyBody,
    operator: CurrentOperator,
    client: ClientDep,
    state: StateDep,
) -> RemedyAnswer:
    """Retry a stuck activity now, or reset a failing workflow to its last completed
    task (admins; audited)."""
    await visible_case(client, await account_scope(state, operator), workflow_id)
    report = (await state.stuck.reports(client)).get(workflow_id)
    done = await apply_remedy(
        client, state.audit, report, workflow_id, remedy, operator, body.reason
    )
    return RemedyAnswer(workflow_id=workflow_id, remedy=remedy, done=done)


def _query(**flash: str) -> str:
    return urlencode(flash)


def _never() -> datetime:
    return datetime.max.replace(tzinfo=UTC)
