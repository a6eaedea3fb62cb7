"""The approval component on the time-skipping server, through a probe workflow wired
like real ones: refusals reach the console's client, timers move search attributes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from crossdock.models.approval import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalState,
    Decision,
    DecisionAction,
    Principal,
    Role,
)
from crossdock.money import Money
from crossdock.workflow_sandbox import RUNNER
from tests.conftest import skip_time
from tests.workflows.approval_probe import ApprovalProbeWorkflow, ProbeInput, ProbeStatus
from workflows.approval import REFUSED
from workflows.search import AWAITING_APPROVAL, NEEDS_ATTENTION

Probe = WorkflowHandle[ApprovalProbeWorkflow, list[ApprovalOutcome]]

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MAKER = Principal(id="ops-1", role=Role.OPERATOR)
OPERATOR = Principal(id="ops-2", role=Role.OPERATOR)
VIEWER = Principal(id="view-1", role=Role.VIEWER)
FINANCE = Principal(id="fin-1", role=Role.FINANCE)

APPROVE = DecisionAction.APPROVE
REJECT = DecisionAction.REJECT
REQUEST_INFO = DecisionAction.REQUEST_INFO


def review() -> ApprovalRequest:
    """The order risk review: any operator may decide, clocks at 1 h, 4 h, 24 h."""
    return ApprovalRequest(
        key="review",
        subject="risk score 82 over threshold 60: first-time buyer, billing ≠ shipping",
        allowed_roles=frozenset({Role.OPERATOR, Role.ADMIN}),
        actions=frozenset(DecisionAction),
        remind_after=HOUR,
        escalate_after=4 * HOUR,
        expire_after=24 * HOUR,
    )


def refund() -> ApprovalRequest:
    """A refund an operator asked for, over the finance threshold."""
    return ApprovalRequest(
        key="refund",
        subject="refund for RMA 42, item damaged",
        allowed_roles=frozenset({Role.OPERATOR, Role.FINANCE, Role.ADMIN}),
        actions=frozenset(DecisionAction),
        options=("return_label", "returnless"),
        remind_after=HOUR,
        escalate_after=4 * HOUR,
        expire_after=24 * HOUR,
        requested_by=MAKER,
        amount=Money(amount=18000, currency="EUR"),
        finance_threshold=Money(amount=10000, currency="EUR"),
    )


def decision(
    by: Principal, action: DecisionAction = APPROVE, key: str = "review", **terms: object
) -> Decision:
    return Decision.model_validate({"key": key, "action": action, "by": by, **terms})


def worker(env: WorkflowEnvironment, task_queue: str) -> Worker:
    return Worker(
        env.client, task_queue=task_queue, workflows=[ApprovalProbeWorkflow], workflow_runner=RUNNER
    )


async def start(env: WorkflowEnvironment, task_queue: str, *requests: ApprovalRequest) -> Probe:
    handle = await env.client.start_workflow(
        ApprovalProbeWorkflow.run,
        ProbeInput(requests=list(requests)),
        id=f"approval-probe-{task_queue}",
        task_queue=task_queue,
    )
    if requests:
        await until(handle, lambda status: bool(status.approvals))
    return handle


async def until(handle: Probe, predicate: Callable[[ProbeStatus], bool]) -> ProbeStatus:
    """Poll the status query: after a time skip the workflow task still has to run."""
    for _ in range(200):
        status = await handle.query(ApprovalProbeWorkflow.status)
        if predicate(status):
            return status
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition never held; last status: {status}")


async def flags(handle: Probe) -> tuple[bool | None, bool | None]:
    """(AwaitingApproval, NeedsAttention) as the console's list filters see them."""
    attributes = (await handle.describe()).typed_search_attributes
    return attributes.get(AWAITING_APPROVAL), attributes.get(NEEDS_ATTENTION)


async def refusal(handle: Probe, refused: Decision) -> str:
    """The refusal text the console's client receives for `refused`."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(ApprovalProbeWorkflow.decide, refused)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == REFUSED
    return cause.message


async def finish(handle: Probe) -> list[ApprovalOutcome]:
    await handle.signal(ApprovalProbeWorkflow.finish)
    return await handle.result()


def about(span: timedelta, expected: timedelta) -> bool:
    """A timer fires at its time plus the few milliseconds the workflow task takes."""
    return expected <= span < expected + timedelta(seconds=1)


def events(status: ProbeStatus) -> list[str]:
    return [note.event for note in status.timeline]


async def test_approve_closes_the_approval_and_clears_the_flags(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review())
        assert await flags(handle) == (True, False)
        receipt = await handle.execute_update(ApprovalProbeWorkflow.decide, decision(OPERATOR))
        assert (receipt.key, receipt.state, receipt.by) == ("review", "approved", OPERATOR)
        assert await flags(handle) == (False, False)
        [outcome] = await finish(handle)
        status = await handle.query(ApprovalProbeWorkflow.status)
    assert outcome.approved and not outcome.expired
    assert outcome.decision == decision(OPERATOR)
    assert events(status) == ["approval_requested", "approval_approved"]
    assert status.timeline[-1].detail == "review by ops-2 (operator)"


async def test_reject_needs_a_reason_and_keeps_it(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    rejected = decision(OPERATOR, REJECT, reason="billing address on the denied-party list")
    async with worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review())
        assert "a reason is required to reject 'review'" in await refusal(
            handle, decision(OPERATOR, REJECT, reason="  ")
        )
        receipt = await handle.execute_update(ApprovalProbeWorkflow.decide, rejected)
        [outcome] = await finish(handle)
        status = await handle.query(ApprovalProbeWorkflow.status)
    assert receipt.state == ApprovalState.REJECTED
    assert outcome.state == ApprovalState.REJECTED
    assert outcome.reason == "billing address on the denied-party list"
    assert status.timeline[-1].detail == (
        "review by ops-2 (operator): billing address on the denied-party list"
    )


async def test_a_decision_with_nothing_pending_is_refused(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with worker(time_env, task_queue):
        handle = await start(time_env, task_queue)
        message = await refusal(handle, decision(OPERATOR))
        await finish(handle)
    assert message == "no approval is pending (nothing was asked, so 'review' cannot be decided)"


REFUSALS = [
    (decision(VIEWER, key="refund", option="returnless"), "role 'viewer' may not decide 'refund'"),
    (
        decision(MAKER, key="refund", option="returnless"),
        "ops-1 requested 'refund' and may not also decide it (maker ≠ checker)",
    ),
    (
        decision(OPERATOR, key="refund", option="returnless"),
        "approving 180.00 EUR needs role finance or admin (threshold 100.00 EUR); "
        "ops-2 (operator) may not",
    ),
    (decision(OPERATOR, REQUEST_INFO, key="refund"), "a reason is required to request_info"),
    (
        decision(FINANCE, key="refund"),
        "option '' is not offered for 'refund' (offered: return_label, returnless)",
    ),
    (
        decision(
            FINANCE, key="refund", option="returnless", amount={"amount": 18001, "currency": "EUR"}
        ),
        "amount 180.01 EUR must be more than zero and at most the requested 180.00 EUR",
    ),
    (
        decision(FINANCE, option="returnless"),
        "decision is for 'review' but the pending approval is 'refund'",
    ),
]


async def test_refused_decisions_name_the_rule_and_leave_no_history(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partial = {"amount": 15000, "currency": "EUR"}
    approved = decision(FINANCE, key="refund", option="returnless", amount=partial)
    async with worker(time_env, task_queue):
        handle = await start(time_env, task_queue, refund())
        for refused, expected in REFUSALS:
            assert expected in await refusal(handle, refused)
        receipt = await handle.execute_update(ApprovalProbeWorkflow.decide, approved)
        again = await refusal(handle, decision(FINANCE, REJECT, key="refund", reason="oops"))
        [outcome] = await finish(handle)
        status = await handle.query(ApprovalProbeWorkflow.status)
        history = await handle.fetch_history()
    assert receipt.state == ApprovalState.APPROVED
    assert again.startswith("'refund' was already approved by fin-1 (finance) at ")
    assert outcome.decision == approved
    assert status.timeline[-1].detail == "refund by fin-1 (finance) (returnless, 150.00 EUR)"
    accepted = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert len(accepted) == 1  # the refusals left nothing behind: the console must log them


async def test_reminder_then_escalation_then_expiry(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review())
        assert await flags(handle) == (True, False)

        await skip_time(time_env, HOUR + MINUTE)
        status = await until(handle, lambda s: s.approvals[0].reminded_at is not None)
        approval = status.approvals[0]
        assert approval.reminded_at is not None
        assert about(approval.reminded_at - approval.opened_at, HOUR)
        assert await flags(handle) == (True, True)

        await skip_time(time_env, 3 * HOUR)
        status = await until(handle, lambda s: s.approvals[0].escalated_at is not None)
        assert status.escalations == ["review"]
        assert status.approvals[0].pending
        assert await flags(handle) == (True, True)

        [outcome] = await finish(handle)  # awaiting the result lets time skip to the expiry
        status = await handle.query(ApprovalProbeWorkflow.status)
        assert await flags(handle) == (False, False)
    assert outcome.expired and outcome.decision is None
    assert about(outcome.closed_at - status.approvals[0].opened_at, 24 * HOUR)
    assert outcome.reason == "no decision within 1d"
    assert status.timeline[2].detail == "review: undecided after 4h"
    assert events(status) == [
        "approval_requested",
        "approval_reminder",
        "approval_escalated",
        "approval_expired",
    ]


async def test_request_info_keeps_it_pending_and_restarts_the_reminder_clock(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    asked = decision(OPERATOR, REQUEST_INFO, reason="ask the buyer for a VAT number")
    async with worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review())
        await skip_time(time_env, HOUR + MINUTE)
        await until(handle, lambda s: s.approvals[0].reminded_at is not None)
        assert await flags(handle) == (True, True)

        receipt = await handle.execute_update(ApprovalProbeWorkflow.decide, asked)
        assert receipt.state == ApprovalState.PENDING
        assert await flags(handle) == (True, False)  # someone is on it

        await skip_time(time_env, HOUR + MINUTE)
        status = await until(handle, lambda s: s.approvals[0].needs_attention)
        approval = status.approvals[0]
        assert approval.reminded_at is not None
        assert about(approval.reminded_at - approval.decisions[0].at, HOUR)
        assert approval.escalated_at is None

        await handle.execute_update(ApprovalProbeWorkflow.decide, decision(OPERATOR))
        [outcome] = await finish(handle)
        status = await handle.query(ApprovalProbeWorkflow.status)
        history = await handle.fetch_history()
    replayer = Replayer(
        workflows=[ApprovalProbeWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=RUNNER,
    )
    await replayer.replay_workflow(history)  # timers, updates and upserts replay identically
    assert outcome.approved
    assert [r.decision.action for r in status.approvals[0].decisions] == [REQUEST_INFO, APPROVE]
    assert events(status) == [
        "approval_requested",
        "approval_reminder",
        "approval_info_requested",
        "approval_reminder",
        "approval_approved",
    ]
    assert (
        status.timeline[2].detail == "review: ops-2 (operator) asks: ask the buyer for a VAT number"
    )


async def test_withdraw_closes_without_a_decision_and_a_late_decision_is_refused(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review())
        await handle.signal(ApprovalProbeWorkflow.withdraw, "buyer cancelled the order")
        await until(handle, lambda s: not s.approvals[0].pending)
        late = await refusal(handle, decision(OPERATOR))
        assert await flags(handle) == (False, False)
        [outcome] = await finish(handle)
    assert outcome.state == ApprovalState.WITHDRAWN
    assert outcome.reason == "buyer cancelled the order"
    assert late.startswith("'review' was already withdrawn at ")


async def test_approvals_in_sequence_refuse_a_stale_key(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    second = refund()
    async with worker(time_env, task_queue):
        handle = await start(time_env, task_queue, review(), second)
        await handle.execute_update(ApprovalProbeWorkflow.decide, decision(OPERATOR))
        await until(handle, lambda s: len(s.approvals) == 2)
        stale = await refusal(handle, decision(OPERATOR))  # a second click on the old page
        assert await flags(handle) == (True, False)
        await handle.execute_update(
            ApprovalProbeWorkflow.decide,
            decision(FINANCE, REJECT, key="refund", reason="buyer kept the item"),
        )
        outcomes = await finish(handle)
    assert stale == "decision is for 'review' but the pending approval is 'refund'"
    assert [o.state for o in outcomes] == [ApprovalState.APPROVED, ApprovalState.REJECTED]
