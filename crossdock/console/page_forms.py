"""The case page's action forms: each posts to one workflow update through the desk
(crossdock.console.actions) and comes back to the case's page with the workflow's
answer, or its refusal, at the top."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

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
from crossdock.console.errors import ConsoleError
from crossdock.console.state import account_scope, console_state, desk
from crossdock.console.web import Operator, back, require
from crossdock.identity.sessions import WebSession
from crossdock.models.approval import DecisionAction
from crossdock.models.order import Address
from crossdock.models.returns import InspectedLine, InspectionVerdict
from crossdock.money import Money

router = APIRouter(prefix="/console", include_in_schema=False)


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
        return back(workflow_id, error=f"cannot read the form: {err}")
    return await _act(request, workflow_id, "decide", body, who)


@router.post("/cases/{workflow_id}/cancel")
async def cancel_form(
    request: Request, workflow_id: str, who: Operator, reason: Annotated[str, Form()] = ""
) -> Response:
    """The cancel form."""
    if not reason.strip():
        return back(workflow_id, error="say why the order is cancelled (reason is required)")
    return await _act(request, workflow_id, "cancel", CancelBody(reason=reason), who)


@router.post("/cases/{workflow_id}/hold")
async def hold_form(
    request: Request, workflow_id: str, who: Operator, reason: Annotated[str, Form()] = ""
) -> Response:
    """The hold form."""
    if not reason.strip():
        return back(workflow_id, error="say why the order is held (reason is required)")
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
        return back(workflow_id, error=f"cannot read the address: {err}")
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
        return back(workflow_id, error=f"cannot read the inspection: {err}")
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
        return back(workflow_id, error=f"cannot read the evidence: {err}")
    return await _act(request, workflow_id, "evidence", body, who)


async def _act(
    request: Request, workflow_id: str, action: str, body: ActionBody, who: WebSession | None
) -> Response:
    operator = require(who).principal
    try:
        scope = await account_scope(console_state(request), operator)
        answer = await desk(request).act(workflow_id, action, body, operator, scope)
    except ConsoleError as err:
        what = "Refused" if err.code == "refused" else "Not sent"
        return back(workflow_id, error=f"{what}: {err.message}")
    done = ", ".join(f"{k}: {v}" for k, v in answer.result.items() if v not in (None, "", []))
    return back(workflow_id, message=f"{action} accepted ({done})")
