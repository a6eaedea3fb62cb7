"""The console's JSON API (`/api/...`, described at `/openapi.json`): the approvals
inbox, case lists with filters, one case's detail, and the actions operators take.
Errors are `{"error": code, "message": ..., "fields": [...]}` (crossdock.api_errors),
each status code listed in the spec per route; a refused action is 409 with the
workflow's own reason."""

from __future__ import annotations

import asyncio
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from crossdock.api_errors import refusals
from crossdock.audit.render import as_csv
from crossdock.audit.timeline import TimelineEntry as AuditLine
from crossdock.console.actions import (
    AddressBody,
    CancelBody,
    DecideBody,
    EvidenceBody,
    HoldBody,
    InspectBody,
    ResumeBody,
)
from crossdock.console.case_scope import visible_case
from crossdock.console.errors import bad_request
from crossdock.console.kinds import BY_PLURAL
from crossdock.console.locale import LocaleRefused, OperatorLocale
from crossdock.console.reads import CaseFilter, audit_timeline, cases, detail, inbox
from crossdock.console.state import (
    ClientDep,
    CurrentOperator,
    DeskDep,
    StateDep,
    account_scope,
)
from crossdock.console.views import (
    ActionAnswer,
    CaseDetail,
    CaseSummary,
    InboxItem,
    LocaleChoice,
    Me,
)
from crossdock.identity.privacy import all_shown_to, shown_to
from crossdock.identity.scope import in_scope

router = APIRouter(prefix="/api", tags=["console"])
# The most cases one list answers (a longer list is paged by narrowing the filters).
MAX_LIST = 500
# A case's workflow id (order-..., return-..., dispute-...); longer is no case of ours.
WorkflowId = Annotated[str, Path(min_length=1, max_length=200)]


class AuditFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class CaseList(StrEnum):
    ORDERS = "orders"
    RETURNS = "returns"
    DISPUTES = "disputes"


@router.get("/me", responses=refusals(401, 403))
async def me(operator: CurrentOperator, state: StateDep) -> Me:
    """The account the token stands for, with its language and time zone."""
    chosen = await asyncio.to_thread(state.workday.locale, operator.id)
    return Me(
        account_id=operator.id,
        role=operator.role,
        language=chosen.language,
        time_zone=chosen.time_zone,
    )


@router.put("/me/locale", responses=refusals(400, 401, 403, 422))
async def set_locale(body: LocaleChoice, operator: CurrentOperator, state: StateDep) -> Me:
    """Choose the language (en, zh_CN) and IANA time zone the console and CLI use."""
    try:
        chosen = OperatorLocale.checked(body.language, body.time_zone)
    except LocaleRefused as err:
        raise bad_request(str(err)) from None
    await asyncio.to_thread(state.workday.set_locale, operator.id, chosen)
    return await me(operator, state)


@router.get("/inbox", responses=refusals(401, 403, 503))
async def approvals_inbox(
    operator: CurrentOperator, client: ClientDep, state: StateDep
) -> list[InboxItem]:
    """Everything waiting for a person (in the account's marketplaces): stuck cases
    first, then pending approvals, the nearest deadline first."""
    scope = await account_scope(state, operator)
    waiting = await inbox(client, await state.stuck.reports(client), scope)
    items = [i for i in waiting if in_scope(scope, i.workflow_id, i.marketplace, i.destination)]
    return all_shown_to(items, operator.role)


@router.get("/cases/{workflow_id}", responses=refusals(401, 403, 404, 422, 503))
async def case_detail(
    workflow_id: WorkflowId, operator: CurrentOperator, client: ClientDep, state: StateDep
) -> CaseDetail:
    """One order, return or dispute: live state, pending approval, timeline, attempts
    (names, contacts and addresses masked for viewers)."""
    await visible_case(client, await account_scope(state, operator), workflow_id)
    case = await detail(client, state.audit, workflow_id, state.stuck.policy)
    return shown_to(case, operator.role)


@router.get(
    "/audit/{workflow_id}",
    response_model=list[AuditLine],
    responses={
        **refusals(401, 403, 404, 422, 503),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
async def audit(
    workflow_id: WorkflowId,
    operator: CurrentOperator,
    client: ClientDep,
    state: StateDep,
    format: AuditFormat = AuditFormat.JSON,
) -> list[AuditLine] | PlainTextResponse:
    """Who did what, when and why: the history as a timeline (payloads decoded), with
    refused attempts from the audit log; `format=csv` for a spreadsheet."""
    await visible_case(client, await account_scope(state, operator), workflow_id)
    lines = all_shown_to(await audit_timeline(client, state.audit, workflow_id), operator.role)
    if format is AuditFormat.CSV:
        return PlainTextResponse(as_csv(lines), media_type="text/csv")
    return lines


@router.post("/cases/{workflow_id}/decide", responses=refusals(400, 401, 403, 404, 409, 422, 503))
async def decide(
    workflow_id: WorkflowId,
    body: DecideBody,
    operator: CurrentOperator,
    desk: DeskDep,
    state: StateDep,
) -> ActionAnswer:
    """Approve, reject or request information on the pending approval."""
    scope = await account_scope(state, operator)
    return await desk.act(workflow_id, "decide", body, operator, scope)


@router.post("/cases/{workflow_id}/cancel", responses=refusals(400, 401, 403, 404, 409, 422, 503))
async def cancel(
    workflow_id: WorkflowId,
    body: CancelBody,
    operator: CurrentOperator,
    desk: DeskDep,
    state: StateDep,
) -> ActionAnswer:
    """Cancel an order before it ships (what was booked is undone)."""
    scope = await account_scope(state, operator)
    return await desk.act(workflow_id, "cancel", body, operator, scope)


@router.post("/cases/{workflow_id}/hold", responses=refusals(400, 401, 403, 404, 409, 422, 503))
async def hold(
    workflow_id: WorkflowId,
    body: HoldBody,
    operator: CurrentOperator,
    desk: DeskDep,
    state: StateDep,
) -> ActionAnswer:
    """Stop an order before its next step (before shipment) until it is resumed."""
    scope = await account_scope(state, operator)
    return await desk.act(workflow_id, "hold", body, operator, scope)


@router.post("/cases/{workflow_id}/resume", responses=refusals(400, 401, 403, 404, 409, 422, 503))
async def resume(
    workflow_id: WorkflowId,
    body: ResumeBody,
    operator: CurrentOperator,
    desk: DeskDep,
    state: StateDep,
) -> ActionAnswer:
    """Let a held order go on."""
    scope = await account_scope(state, operator)
    return await desk.act(workflow_id, "resume", body, operator, scope)


@router.post("/cases/{workflow_id}/address", responses=refusals(400, 401, 403, 404, 409, 422, 503))
async def correct_address(
    workflow_id: WorkflowId,
    body: AddressBody,
    operator: CurrentOperator,
    desk: DeskDep,
    state: StateDep,
) -> ActionAnswer:
    """Give an undeliverable parcel's reshipment a corrected address."""
    scope = await account_scope(state, operator)
    return await desk.act(workflow_id, "address", body, operator, scope)


@router.post("/cases/{workflow_id}/inspect", responses=refusals(400, 401, 403, 404, 409, 422, 503))
async def inspect(
    workflow_id: WorkflowId,
    body: InspectBody,
    operator: CurrentOperator,
    desk: DeskDep,
    state: StateDep,
) -> ActionAnswer:
    """Record the warehouse's inspection of a returned parcel."""
    scope = await account_scope(state, operator)
    return await desk.act(workflow_id, "inspect", body, operator, scope)


@router.post("/cases/{workflow_id}/evidence", responses=refusals(400, 401, 403, 404, 409, 422, 503))
async def edit_evidence(
    workflow_id: WorkflowId,
    body: EvidenceBody,
    operator: CurrentOperator,
    desk: DeskDep,
    state: StateDep,
) -> ActionAnswer:
    """Change a dispute's staged evidence before it is submitted."""
    scope = await account_scope(state, operator)
    return await desk.act(workflow_id, "evidence", body, operator, scope)


@router.get("/{kind}", responses=refusals(400, 401, 403, 422, 503))
async def case_list(
    kind: CaseList,
    operator: CurrentOperator,
    client: ClientDep,
    console: StateDep,
    state: Annotated[str, Query(max_length=64)] = "",
    marketplace: Annotated[str, Query(max_length=64)] = "",
    destination: Annotated[str, Query(max_length=2)] = "",
    needs_attention: bool | None = None,
    stuck: bool | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 50,
) -> list[CaseSummary]:
    """Orders, returns or disputes, filtered by state, marketplace, destination country
    (orders), needs attention, stuck and start date (since/until, inclusive days, UTC)."""
    filters = CaseFilter(
        state=state,
        marketplace=marketplace,
        destination=destination,
        needs_attention=needs_attention,
        stuck=stuck,
        since=since,
        until=until,
        limit=limit,
    )
    scope = await account_scope(console, operator)
    stuck_now = await console.stuck.reports(client)
    rows = await cases(client, BY_PLURAL[kind.value], filters, stuck_now, scope)
    rows = [r for r in rows if in_scope(scope, r.workflow_id, r.marketplace, r.destination)]
    return all_shown_to(rows, operator.role)
