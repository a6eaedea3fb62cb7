"""Bulk work over HTTP: `POST /api/bulk` (API token) and `POST /console/bulk` (the
inbox's and lists' selection, a logged-in session with its CSRF token). Both stream one
JSON line per case as it is done (application/x-ndjson), so a progress bar moves while
the rest are still being sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import StreamingResponse
from temporalio.client import Client

from crossdock.api_errors import refusals
from crossdock.console.actions import Desk
from crossdock.console.bulk import Bulk, BulkAction, BulkRequest
from crossdock.console.errors import bad_request
from crossdock.console.state import (
    ClientDep,
    ConsoleState,
    CurrentOperator,
    DeskDep,
    StateDep,
    account_scope,
    desk,
)
from crossdock.console.web import Operator, require
from crossdock.models.approval import Principal

api = APIRouter(prefix="/api", tags=["console"])
pages = APIRouter(prefix="/console", include_in_schema=False)
NDJSON = "application/x-ndjson"


@api.post(
    "/bulk",
    responses={
        **refusals(400, 401, 403, 422, 503),
        200: {"content": {NDJSON: {"schema": {"type": "string"}}}},
    },
)
async def bulk_api(
    body: BulkRequest,
    operator: CurrentOperator,
    client: ClientDep,
    desks: DeskDep,
    state: StateDep,
) -> StreamingResponse:
    """One action on many cases: a JSON line per case, `{"workflow_id", "outcome",
    "message"}`, accepted or refused and why, in the order they finish."""
    return await _stream(body, operator, client, desks, state)


@pages.post("/bulk")
async def bulk_form(
    request: Request,
    who: Operator,
    client: ClientDep,
    state: StateDep,
    action: Annotated[str, Form()],
    workflow_id: Annotated[list[str], Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
    assignee: Annotated[str, Form(max_length=64)] = "",
) -> StreamingResponse:
    """The selection of a page: the same stream, for the page's progress bar."""
    operator = require(who).principal
    try:
        body = BulkRequest(
            action=BulkAction(action), workflow_ids=workflow_id, reason=reason, assignee=assignee
        )
    except ValueError as err:
        raise bad_request(f"cannot read the selection: {err}") from None
    return await _stream(body, operator, client, desk(request), state)


async def _stream(
    body: BulkRequest, operator: Principal, client: Client, on: Desk, state: ConsoleState
) -> StreamingResponse:
    scope = await account_scope(state, operator)
    known = {a.account_id for a in await asyncio.to_thread(state.accounts.all) if not a.disabled}
    bulk = Bulk(client, on, state.audit, state.workday)

    async def lines() -> AsyncIterator[str]:
        async for result in bulk.run(body, operator, scope, known):
            yield result.model_dump_json() + "\n"

    return StreamingResponse(lines(), media_type=NDJSON)
