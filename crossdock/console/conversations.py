"""Buyer conversations in the console: the list with the service figures, one case's
thread with the suggested reply to edit and send, and the same as JSON for the CLI
(`crossdock cases ...`). Replies and actions go to the case workflow's updates signed
for the operator and recorded in the audit log, as every console action is."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from crossdock.api_errors import refusals
from crossdock.audit.attempts import attempt_update
from crossdock.cases_report import case_statuses, figures, seconds_text
from crossdock.console.errors import ConsoleError
from crossdock.console.state import (
    ClientDep,
    ConsoleState,
    CurrentOperator,
    StateDep,
    account_scope,
    visible,
)
from crossdock.console.web import Operator, render, require
from crossdock.identity.scope import in_scope
from crossdock.models.approval import Principal
from crossdock.models.case import CaseAction, CaseActionKind, CaseReply, CaseStatus
from crossdock.models.order import Address
from crossdock.models.returns import ReturnLine, ReturnReason
from crossdock.money import Money
from workflows.case import BuyerCaseWorkflow

api = APIRouter(prefix="/api/conversations", tags=["console"])
pages = APIRouter(prefix="/console/conversations", include_in_schema=False)
CaseId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^case-")]
HERE = FilePath(__file__).parent


class ReplyBody(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class ActBody(BaseModel):
    """An action from the case; each kind names what it needs (see CaseAction)."""

    kind: CaseActionKind
    reason: str = Field(min_length=1, max_length=500)
    address: Address | None = None
    lines: list[ReturnLine] = Field(default_factory=list, max_length=100)
    return_reason: ReturnReason | None = None
    amount: Money | None = None
    refund: str = Field(default="", max_length=40)


def _action(body: ActBody, by: Principal) -> CaseAction:
    try:
        return CaseAction(
            **body.model_dump(exclude={"kind", "reason"}), kind=body.kind, reason=body.reason, by=by
        )
    except ValidationError as err:
        raise ConsoleError(422, "invalid", f"{body.kind}: {_why(err)}") from None


def _why(err: ValueError) -> str:
    """A validation error as one line: each field and what was wrong with it."""
    if not isinstance(err, ValidationError):
        return str(err)
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'value'}: {e['msg']}" for e in err.errors()
    )


class CaseLine(BaseModel):
    workflow_id: str
    state: str
    language: str
    intents: list[str]
    order_workflow_id: str
    waiting_since: datetime | None
    deadline: datetime | None
    needs_attention: bool
    messages: int


def _line(workflow_id: str, status: CaseStatus) -> CaseLine:
    return CaseLine(
        workflow_id=workflow_id,
        state=status.state,
        language=status.language,
        intents=list(status.intents),
        order_workflow_id=status.order_workflow_id,
        waiting_since=status.waiting_since,
        deadline=status.deadline,
        needs_attention=status.needs_attention,
        messages=len(status.thread),
    )


async def _status(client: Any, workflow_id: str) -> CaseStatus:
    try:
        status: CaseStatus = await client.get_workflow_handle(workflow_id).query(
            BuyerCaseWorkflow.status, result_type=CaseStatus
        )
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise ConsoleError(404, "not_found", f"no conversation {workflow_id!r}") from err
        raise ConsoleError(503, "unavailable", f"{workflow_id}: {err.message}; try again") from err
    return status


async def _send(
    client: Any, state: ConsoleState, workflow_id: str, update: Any, request: Any
) -> Any:
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await attempt_update(handle, update, request, state.audit)
    except WorkflowUpdateFailedError as err:
        raise ConsoleError(409, "refused", str(err.cause or err)) from None
    except RPCError as err:
        code = 404 if err.status is RPCStatusCode.NOT_FOUND else 503
        raise ConsoleError(code, "refused", f"{workflow_id}: {err.message}") from None


def _signed(state: ConsoleState, who: Principal, workflow_id: str) -> Principal:
    return state.signer.sign(who, workflow_id)


# -- JSON API ----------------------------------------------------------------------------


async def _visible_cases(
    client: Any, state: ConsoleState, who: Principal, limit: int = 500
) -> list[tuple[str, CaseStatus]]:
    scope = await account_scope(state, who)
    return [(i, s) for i, s in await case_statuses(client, limit=limit) if in_scope(scope, i)]


async def _check_visible(state: ConsoleState, who: Principal, workflow_id: str) -> None:
    visible(await account_scope(state, who), workflow_id)


@api.get("", responses=refusals(401, 403, 503))
async def list_conversations(
    operator: CurrentOperator, client: ClientDep, state: StateDep
) -> list[CaseLine]:
    """Recent buyer conversations (in the account's marketplaces), newest first."""
    return [_line(i, s) for i, s in await _visible_cases(client, state, operator, 200)]


@api.get("/stats", responses=refusals(401, 403, 503))
async def conversation_stats(
    operator: CurrentOperator, client: ClientDep, state: StateDep
) -> dict[str, Any]:
    """First response time, share answered in time, by intent and language, open by age."""
    statuses = [s for _, s in await _visible_cases(client, state, operator)]
    return asdict(figures(statuses, datetime.now(UTC)))


@api.get("/{workflow_id}", responses=refusals(401, 403, 404, 422, 503))
async def show_conversation(
    workflow_id: CaseId, operator: CurrentOperator, client: ClientDep, state: StateDep
) -> CaseStatus:
    """One conversation: the thread, the order's facts, the suggested reply, the timeline."""
    await _check_visible(state, operator, workflow_id)
    return await _status(client, workflow_id)


@api.post("/{workflow_id}/reply", responses=refusals(400, 401, 403, 404, 409, 422, 503))
async def reply(
    workflow_id: CaseId,
    body: ReplyBody,
    operator: CurrentOperator,
    client: ClientDep,
    state: StateDep,
) -> dict[str, Any]:
    """Send a reply to the buyer (the suggested one, edited)."""
    await _check_visible(state, operator, workflow_id)
    by = _signed(state, operator, workflow_id)
    line = await _send(
        client, state, workflow_id, BuyerCaseWorkflow.reply, CaseReply(text=body.text, by=by)
    )
    return dict(line.model_dump(mode="json"))


@api.post("/{workflow_id}/act", responses=refusals(400, 401, 403, 404, 409, 422, 503))
async def act(
    workflow_id: CaseId,
    body: ActBody,
    operator: CurrentOperator,
    client: ClientDep,
    state: StateDep,
) -> dict[str, Any]:
    """An action on the linked order: cancel or correct the address (before shipment),
    open a return, offer a goodwill refund, or (finance) approve or reject one."""
    await _check_visible(state, operator, workflow_id)
    action = _action(body, _signed(state, operator, workflow_id))
    receipt = await _send(client, state, workflow_id, BuyerCaseWorkflow.act, action)
    return dict(receipt.model_dump(mode="json"))


# -- pages -------------------------------------------------------------------------------


@pages.get("")
async def conversations_page(
    request: Request, who: Operator, client: ClientDep, state: StateDep
) -> HTMLResponse:
    """Buyer conversations and how well they are answered."""
    operator = require(who)
    found = await _visible_cases(client, state, operator.principal, 200)
    service = figures([s for _, s in found], datetime.now(UTC))
    lines = [_line(i, s) for i, s in found]
    return await render(
        request, "conversations.html", operator, lines=lines, service=service, seconds=seconds_text
    )


@pages.get("/{workflow_id}")
async def conversation_page(
    request: Request,
    workflow_id: CaseId,
    who: Operator,
    client: ClientDep,
    state: StateDep,
    message: str = "",
    error: str = "",
) -> HTMLResponse:
    """One conversation: the thread both ways, the suggested reply, the timeline."""
    operator = require(who)
    await _check_visible(state, operator.principal, workflow_id)
    status = await _status(client, workflow_id)
    return await render(
        request,
        "conversation.html",
        operator,
        workflow_id=workflow_id,
        case=status,
        message=message,
        error=error,
    )


@pages.post("/{workflow_id}/reply")
async def reply_form(
    request: Request,
    workflow_id: CaseId,
    who: Operator,
    client: ClientDep,
    state: StateDep,
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The reply form."""
    operator = require(who).principal
    if not text.strip():
        return _back(workflow_id, error="write the reply first (text is required)")
    try:
        await _check_visible(state, operator, workflow_id)
        by = _signed(state, operator, workflow_id)
        await _send(
            client, state, workflow_id, BuyerCaseWorkflow.reply, CaseReply(text=text, by=by)
        )
    except ConsoleError as err:
        return _back(workflow_id, error=f"Not sent: {err.message}")
    return _back(workflow_id, message="reply sent")


@pages.post("/{workflow_id}/cancel-order")
async def cancel_form(
    request: Request,
    workflow_id: CaseId,
    who: Operator,
    client: ClientDep,
    state: StateDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Cancel the linked order from the conversation."""
    operator = require(who).principal
    if not reason.strip():
        return _back(workflow_id, error="say why the order is cancelled (reason is required)")
    action = CaseAction(
        kind=CaseActionKind.CANCEL_ORDER, reason=reason, by=_signed(state, operator, workflow_id)
    )
    try:
        receipt = await _send(client, state, workflow_id, BuyerCaseWorkflow.act, action)
    except ConsoleError as err:
        return _back(workflow_id, error=f"Refused: {err.message}")
    if not receipt.accepted:
        return _back(workflow_id, error=f"The order refused: {receipt.detail}")
    return _back(workflow_id, message="order cancelled")


@pages.post("/{workflow_id}/act")
async def act_form(
    request: Request,
    workflow_id: CaseId,
    who: Operator,
    client: ClientDep,
    state: StateDep,
    kind: Annotated[CaseActionKind, Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    return_reason: Annotated[str, Form(max_length=40)] = "",
    refund: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    line1: Annotated[str, Form(max_length=100)] = "",
    line2: Annotated[str, Form(max_length=100)] = "",
    city: Annotated[str, Form(max_length=100)] = "",
    postal_code: Annotated[str, Form(max_length=20)] = "",
    country: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    """The case page's action forms: goodwill refund (and finance's decision), open a
    return, correct the address."""
    operator = require(who).principal
    if not reason.strip():
        return _back(workflow_id, error=f"say why ({kind}: reason is required)")
    try:
        fields: dict[str, Any] = {"kind": kind, "reason": reason, "refund": refund}
        if amount.strip():
            fields["amount"] = Money.parse(amount.strip(), currency)
        if return_reason:
            fields["return_reason"] = return_reason
        address = _typed_address(name, line1, line2, city, postal_code, country)
        if address is not None:
            fields["address"] = address
        body = ActBody(**fields)
    except (ValidationError, ValueError) as err:
        return _back(workflow_id, error=f"Not done: {_why(err)}")
    try:
        await _check_visible(state, operator, workflow_id)
        action = _action(body, _signed(state, operator, workflow_id))
        receipt = await _send(client, state, workflow_id, BuyerCaseWorkflow.act, action)
    except ConsoleError as err:
        return _back(workflow_id, error=f"Refused: {err.message}")
    if not receipt.accepted:
        return _back(workflow_id, error=f"Refused: {receipt.detail}")
    return _back(workflow_id, message=f"{kind.replace('_', ' ')}: {receipt.detail}")


def _typed_address(
    name: str, line1: str, line2: str, city: str, postal_code: str, country: str
) -> Address | None:
    """The corrected address the form carries (None: its first line is empty).

    Raises:
        ValidationError: a field the address refuses.
    """
    if not line1.strip():
        return None
    return Address(
        name=name, line1=line1, line2=line2, city=city, postal_code=postal_code, country=country
    )


def _back(workflow_id: str, **flash: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in flash.items() if v})
    return RedirectResponse(f"/console/conversations/{quote(workflow_id)}?{query}", status_code=303)
