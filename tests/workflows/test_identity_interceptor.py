"""The principal interceptor on its own worker: only decisions the console signed pass.

A probe workflow wired like real ones (tests/workflows/approval_probe.py) runs on a
worker with `PrincipalVerification`; decisions arrive unsigned, forged, borrowed from
another workflow, expired, through the `temporal` CLI, and properly signed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crossdock.binaries import installed_binary
from crossdock.identity import ClaimSigner, ClaimVerifier
from crossdock.identity.binding import ClaimBinding
from crossdock.identity.interceptor import REFUSED, PrincipalVerification, unguarded_updates
from crossdock.models.approval import DecisionAction, DecisionReceipt, Principal, Role
from crossdock.workflow_sandbox import RUNNER
from tests.workflows.approval_probe import ApprovalProbeWorkflow
from tests.workflows.test_approval import Probe, decision, finish, review, start
from worker import WORKFLOWS

KEY = b"console-signing-key-for-tests-0001"
SIGNER = ClaimSigner(KEY, valid_for=timedelta(minutes=5))
OPERATOR = Principal(id="ops-2", role=Role.OPERATOR)


def bound_client(client: Client) -> Client:
    """`client` as crossdock.temporal.connect makes them: grants bound, signals signed."""
    config = client.config()
    config["interceptors"] = [*config["interceptors"], ClaimBinding(SIGNER, ClaimVerifier(KEY))]
    return Client(**config)


@pytest.fixture
async def time_env(time_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The test server, its client binding grants like Crossdock's own clients."""
    return WorkflowEnvironment.from_client(bound_client(time_env.client))


def verifying_worker(env: WorkflowEnvironment, task_queue: str) -> Worker:
    return Worker(
        env.client,
        task_queue=task_queue,
        workflows=[ApprovalProbeWorkflow],
        workflow_runner=RUNNER,
        interceptors=[PrincipalVerification(ClaimVerifier(KEY))],
    )


async def refused_because(handle: Probe, by: Principal) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(ApprovalProbeWorkflow.decide, decision(by))
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == REFUSED
    return cause.message


async def update_events(handle: Probe) -> list[EventType.ValueType]:
    history = await handle.fetch_history()
    return [
        event.event_type
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]


async def test_signed_decision_is_accepted(time_env: WorkflowEnvironment, task_queue: str) -> None:
    async with verifying_worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review())
        signed = SIGNER.sign(OPERATOR, handle.id)
        receipt = await handle.execute_update(ApprovalProbeWorkflow.decide, decision(signed))
        assert isinstance(receipt, DecisionReceipt)
        assert (receipt.action, receipt.by.id) == (DecisionAction.APPROVE, "ops-2")
        assert (await finish(handle))[0].approved


async def test_unsigned_forged_borrowed_and_expired_are_refused_without_history(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with verifying_worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review())
        signed = SIGNER.sign(OPERATOR, handle.id)
        forged = signed.model_copy(update={"role": Role.ADMIN})
        borrowed = SIGNER.sign(OPERATOR, "order-storefront-SF000001")
        expired = SIGNER.sign(OPERATOR, handle.id, now=time.time() - 600)
        other_key = ClaimSigner(b"someone-elses-key-0123456789").sign(OPERATOR, handle.id)

        assert "decide refused: principal ops-2 (operator) is not signed" in (
            await refused_because(handle, OPERATOR)
        )
        for bad in (forged, borrowed, other_key):
            assert "does not verify for 'approval-probe-" in await refused_because(handle, bad)
        assert re.search(r"claim that expired 30\ds ago", await refused_because(handle, expired))
        malformed = OPERATOR.model_copy(update={"claim": "v1.nope"})
        assert "malformed claim" in await refused_because(handle, malformed)
        # A refused update leaves no trace in history, and the approval is still open.
        assert await update_events(handle) == []
        await handle.execute_update(ApprovalProbeWorkflow.decide, decision(signed))
        assert (await finish(handle))[0].approved


async def test_workflow_rules_still_apply_to_signed_principals(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with verifying_worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review())
        viewer = SIGNER.sign(Principal(id="view-1", role=Role.VIEWER), handle.id)
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await handle.execute_update(ApprovalProbeWorkflow.decide, decision(viewer))
        assert "role 'viewer' may not decide 'review'" in str(caught.value.cause)
        await finish_pending(handle)  # a workflow left open would stall later time skips


async def test_bare_temporal_cli_update_is_refused(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with verifying_worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review())
        typed = {"key": "review", "action": "approve", "by": {"id": "me", "role": "admin"}}
        process = await asyncio.create_subprocess_exec(
            installed_binary("temporal"),
            "workflow",
            "update",
            "execute",
            "--address",
            time_env.client.service_client.config.target_host,
            "--workflow-id",
            handle.id,
            "--name",
            "decide",
            "--input",
            json.dumps(typed),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        output = (stdout + stderr).decode()
        assert process.returncode != 0, output
        assert "principal me (admin) is not signed" in output
        assert await update_events(handle) == []
        await finish_pending(handle)


async def finish_pending(handle: Probe) -> None:
    await handle.execute_update(
        ApprovalProbeWorkflow.decide, decision(SIGNER.sign(OPERATOR, handle.id))
    )
    await finish(handle)


def test_every_update_taking_a_principal_has_a_validator() -> None:
    assert unguarded_updates(WORKFLOWS) == []


def test_an_update_without_validator_is_reported() -> None:
    from tests.workflows.unguarded_probe import UnguardedWorkflow

    assert unguarded_updates([UnguardedWorkflow]) == ["UnguardedWorkflow.decide"]


async def test_real_order_with_the_workers_verification_setting(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    from pydantic import SecretStr

    from crossdock.config import Settings
    from crossdock.identity.claims import signer_for
    from crossdock.models.approval import Decision
    from crossdock.models.order_states import OrderState
    from crossdock.models.order_steps import CancelRequest
    from tests.workflows.order_harness import deliver, wait_for_state
    from tests.workflows.order_harness import start as start_order
    from tests.workflows.stand_ins import Partners
    from tests.workflows.test_order_review import REVIEW_CLOCKS, knife_to_gb
    from worker import principal_verification
    from workflows.order import OrderWorkflow

    settings = Settings(
        verify_principals=True, principal_key=SecretStr(KEY.decode()), _env_file=None
    )
    [passing] = principal_verification(settings.model_copy(update={"verify_principals": False}))
    assert isinstance(passing, PrincipalVerification) and not passing._enforce
    partners = Partners()
    async with Worker(
        time_env.client,
        task_queue=task_queue,
        workflows=[OrderWorkflow],
        activities=partners.activities(),
        workflow_runner=RUNNER,
        interceptors=principal_verification(settings),
    ):
        order = knife_to_gb("SF30000091")
        handle = await start_order(time_env, task_queue, order, **REVIEW_CLOCKS)
        await wait_for_state(handle, OrderState.IN_REVIEW)
        for update, request in (
            (OrderWorkflow.cancel, CancelRequest(reason="typed by hand", by=OPERATOR)),
            (OrderWorkflow.decide, decision(OPERATOR)),
        ):
            with pytest.raises(WorkflowUpdateFailedError) as caught:
                await handle.execute_update(update, request)  # type: ignore[arg-type]
            assert "is not signed" in str(caught.value.cause)
        signed = signer_for(settings).sign(OPERATOR, handle.id)
        approve = Decision(key="review", action=DecisionAction.APPROVE, reason="18+", by=signed)
        await handle.execute_update(OrderWorkflow.decide, approve)
        await deliver(handle)
        assert (await handle.result()).state == OrderState.COMPLETED
