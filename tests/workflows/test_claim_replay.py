"""The probe that found it: a signed claim read from a decoded history, replayed through
Temporal, cancelled an order. Now a claim is bound to its update and arguments and used
once, and the signals that carry intent need a claim too. A real order workflow on a
worker with the production interceptors; the attacker holds a plain client (Temporal
access, no key), the console a binding one."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crossdock.config import Settings
from crossdock.identity.claims import signer_for
from crossdock.models.order_cases import CaseKind, CaseLink
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import CancelRequest, HoldRequest, OrderResult, ResumeRequest
from crossdock.workflow_sandbox import RUNNER
from tests.workflows.order_harness import OrderHandle, start, wait_for_state
from tests.workflows.stand_ins import Partners
from tests.workflows.test_identity_interceptor import KEY, OPERATOR, bound_client
from tests.workflows.test_order_review import REVIEW_CLOCKS, knife_to_gb
from worker import principal_verification
from workflows.order import OrderWorkflow

SETTINGS = Settings(verify_principals=True, principal_key=SecretStr(KEY.decode()), _env_file=None)
SIGN = signer_for(SETTINGS).sign


def order_worker(env: WorkflowEnvironment, task_queue: str) -> Worker:
    return Worker(
        env.client,
        task_queue=task_queue,
        workflows=[OrderWorkflow],
        activities=Partners().activities(),
        workflow_runner=RUNNER,
        interceptors=principal_verification(SETTINGS),
    )


async def accepted_hold_from_history(handle: OrderHandle, client: Client) -> HoldRequest:
    """What an attacker decodes from the history: the accepted hold, claim included."""
    history = await handle.fetch_history()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            payloads: list[Payload] = list(request.input.args.payloads)
            [hold] = await client.data_converter.decode(payloads, [HoldRequest])
            assert isinstance(hold, HoldRequest)
            return hold
    raise AssertionError("no accepted update in the history")


async def refusal(handle: OrderHandle, update: object, request: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(update, request)  # type: ignore[call-overload]
    return str(caught.value.cause)


async def test_a_claim_from_a_decoded_history_cannot_cancel_or_repeat(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    console = bound_client(time_env.client)
    async with order_worker(time_env, task_queue):
        ours = await start(
            WorkflowEnvironment.from_client(console),
            task_queue,
            knife_to_gb("SF41"),
            **REVIEW_CLOCKS,
        )
        await wait_for_state(ours, OrderState.IN_REVIEW)
        await ours.execute_update(
            OrderWorkflow.hold, HoldRequest(reason="checking the age", by=SIGN(OPERATOR, ours.id))
        )
        attacker: WorkflowHandle[OrderWorkflow, OrderResult] = time_env.client.get_workflow_handle(
            ours.id
        )
        stolen = (await accepted_hold_from_history(ours, time_env.client)).by
        assert stolen.claim.startswith("v2.")
        cancel = CancelRequest(reason="forged", by=stolen)
        assert "does not verify for 'cancel'" in await refusal(
            attacker, OrderWorkflow.cancel, cancel
        )
        again = HoldRequest(reason="checking the age", by=stolen)
        assert "already used" in await refusal(attacker, OrderWorkflow.hold, again)
        # An altered argument under the same claim does not verify either.
        altered = HoldRequest(reason="something else", by=stolen)
        assert "for other arguments" in await refusal(attacker, OrderWorkflow.hold, altered)
        status = await ours.query(OrderWorkflow.status)
        assert status.state != OrderState.CANCELLED
        await ours.execute_update(
            OrderWorkflow.resume, ResumeRequest(reason="", by=SIGN(OPERATOR, ours.id))
        )
        await ours.execute_update(
            OrderWorkflow.cancel, CancelRequest(reason="test done", by=SIGN(OPERATOR, ours.id))
        )
        assert (await ours.result()).state == OrderState.CANCELLED


async def test_intent_signals_need_a_claim(time_env: WorkflowEnvironment, task_queue: str) -> None:
    console = bound_client(time_env.client)
    async with order_worker(time_env, task_queue):
        ours = await start(
            WorkflowEnvironment.from_client(console),
            task_queue,
            knife_to_gb("SF42"),
            **REVIEW_CLOCKS,
        )
        await wait_for_state(ours, OrderState.IN_REVIEW)
        attacker: WorkflowHandle[OrderWorkflow, OrderResult] = time_env.client.get_workflow_handle(
            ours.id
        )
        forged = CaseLink(kind=CaseKind.RETURN, workflow_id="return-forged", summary="x")
        await attacker.signal(OrderWorkflow.link_case, forged)
        signed = CaseLink(kind=CaseKind.RETURN, workflow_id="return-real", summary="y")
        await ours.signal(OrderWorkflow.link_case, signed)
        status = await ours.query(OrderWorkflow.status)
        assert [case.workflow_id for case in status.cases] == ["return-real"]
        closed = signed.model_copy(update={"open": False})
        await ours.signal(OrderWorkflow.link_case, closed)
        await ours.execute_update(
            OrderWorkflow.cancel, CancelRequest(reason="test done", by=SIGN(OPERATOR, ours.id))
        )
        assert (await ours.result()).state == OrderState.CANCELLED
