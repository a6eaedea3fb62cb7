"""Operator actions: each maps to one workflow update, sent with the authenticated
principal signed for that workflow, and recorded in the audit log whatever the outcome
(Temporal keeps no trace of a refused update)."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import FailureError
from temporalio.service import RPCError, RPCStatusCode

from crossdock.audit.attempts import attempt_update, update_name
from crossdock.audit.log import AuditLog, DecisionAttempt, Outcome
from crossdock.console.case_scope import case_in_scope
from crossdock.console.errors import ConsoleError, bad_request, not_found, refused
from crossdock.console.kinds import spec_for_id
from crossdock.console.views import ActionAnswer
from crossdock.identity.claims import ClaimSigner
from crossdock.identity.scope import Scope
from crossdock.models.approval import Decision, DecisionAction, Principal
from crossdock.models.bounds import Charge
from crossdock.models.dispute import EvidenceEdit
from crossdock.models.order import Address
from crossdock.models.order_steps import (
    AddressCorrection,
    CancelRequest,
    HoldRequest,
    ResumeRequest,
)
from crossdock.models.returns import InspectedLine, Inspection


class DecideBody(BaseModel):
    """approve / reject / request_info on the pending approval named `key`."""

    key: str = Field(min_length=1, max_length=200)
    action: DecisionAction
    reason: str = Field(default="", max_length=2000)
    option: str = Field(default="", max_length=200)
    # A partial refund's amount: bounded like every charge, so no absurd number reaches
    # the workflow's arithmetic.
    amount: Charge | None = None


class CancelBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class HoldBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ResumeBody(BaseModel):
    reason: str = Field(default="", max_length=500)


class InspectBody(BaseModel):
    lines: list[InspectedLine] = Field(min_length=1)


class EvidenceBody(BaseModel):
    fields: dict[str, str]
    note: str = Field(default="", max_length=500)


class AddressBody(BaseModel):
    """Where the carrier should deliver the undeliverable parcel's reshipment."""

    address: Address


ActionBody = (
    DecideBody | CancelBody | HoldBody | ResumeBody | InspectBody | EvidenceBody | AddressBody
)


class Desk:
    """Sends operators' actions to workflows: signs, executes, records."""

    def __init__(self, client: Client, signer: ClaimSigner, audit: AuditLog) -> None:
        self._client = client
        self._signer = signer
        self._audit = audit

    async def act(
        self,
        workflow_id: str,
        action: str,
        body: ActionBody,
        principal: Principal,
        scope: Scope = None,
    ) -> ActionAnswer:
        """Run `action` on `workflow_id` as `principal` (whose account works on `scope`);
        the workflow's answer, or a ConsoleError (refused with the workflow's reason, not
        found, bad request)."""
        spec = spec_for_id(workflow_id)
        if spec is None:
            raise not_found(f"{workflow_id!r} is not an order, return or dispute id")
        if not await case_in_scope(self._client, scope, workflow_id):
            reason = f"{workflow_id} is outside the marketplaces or countries of {principal.id}"
            await self._record_refusal(workflow_id, action, principal, reason)
            raise not_found(f"no case {workflow_id!r} for this account")
        update = spec.updates.get(action)
        if update is None:
            offered = ", ".join(spec.updates)
            raise bad_request(f"a {spec.kind} does not take {action!r} (it takes: {offered})")
        by = self._signer.sign(principal, workflow_id)
        request = _request(body, by)
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            result = await attempt_update(handle, update, request, self._audit)
        except WorkflowUpdateFailedError as err:
            raise refused(_refusal(err)) from None
        except RPCError as err:
            # Finished, never existed, or Temporal unreachable: the attempt did not reach
            # a validator, but it was made, so it goes on the record too.
            message = f"{workflow_id} cannot take {action}: {err.message}"
            await self._record_refusal(workflow_id, update_name(update), principal, message)
            if err.status is RPCStatusCode.NOT_FOUND:
                raise ConsoleError(404, "refused", message) from None
            raise ConsoleError(503, "unavailable", f"{message}; try again") from None
        return ActionAnswer(
            workflow_id=workflow_id, action=action, by=principal.id, result=_plain(result)
        )

    async def _record_refusal(
        self, workflow_id: str, action: str, by: Principal, reason: str
    ) -> None:
        attempt = DecisionAttempt(
            workflow_id=workflow_id, action=action, by=by, outcome=Outcome.REFUSED, reason=reason
        )
        await asyncio.to_thread(self._audit.append, attempt)


def _request(body: ActionBody, by: Principal) -> BaseModel:
    """The workflow's own update argument for `body`, or a 400 naming what is wrong."""
    try:
        if isinstance(body, DecideBody):
            return Decision(by=by, **body.model_dump())
        if isinstance(body, CancelBody):
            return CancelRequest(reason=body.reason, by=by)
        if isinstance(body, HoldBody):
            return HoldRequest(reason=body.reason, by=by)
        if isinstance(body, ResumeBody):
            return ResumeRequest(reason=body.reason, by=by)
        if isinstance(body, InspectBody):
            return Inspection(lines=body.lines, by=by)
        if isinstance(body, AddressBody):
            return AddressCorrection(address=body.address, by=by)
        return EvidenceEdit(fields=body.fields, note=body.note, by=by)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in err.errors()
        )
        raise bad_request(problems) from None


def _refusal(err: WorkflowUpdateFailedError) -> str:
    """The validator's own message (without the error type Temporal prefixes)."""
    cause = err.cause
    if isinstance(cause, FailureError):
        return cause.message
    return str(cause or err)


def _plain(result: Any) -> dict[str, Any]:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, dict):
        return result
    return {"value": result}
