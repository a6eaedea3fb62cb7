"""Stuck cases are visible: an order whose workflow task keeps failing and a return whose
activity keeps retrying show as stuck in the inbox, the lists (filter `stuck`) and their
detail, with the last error; a healthy running order does not; once the stuck ones are
ended they leave the inbox."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from crossdock.workflow_sandbox import RUNNER
from tests.browser.conftest import Console
from tests.browser.stuck_probes import (
    ILLEGAL,
    UNAVAILABLE,
    BrokenOrderWorkflow,
    RetryingReturnWorkflow,
    WaitingOrderWorkflow,
    refund_always_unavailable,
)
from tests.browser.test_console_cli import crossdock
from tests.browser.test_console_security import logged_in


@pytest.fixture
async def probes(console: Console) -> AsyncIterator[dict[str, WorkflowHandle[Any, Any]]]:
    client = console.stack.client
    queues = [f"stuck-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    tag = uuid.uuid4().hex[:8]
    failing = Worker(
        client,
        task_queue=queues[0],
        workflows=[BrokenOrderWorkflow, RetryingReturnWorkflow],
        activities=[refund_always_unavailable],
        workflow_runner=RUNNER,
    )
    healthy = Worker(
        client, task_queue=queues[1], workflows=[WaitingOrderWorkflow], workflow_runner=RUNNER
    )
    async with failing, healthy:
        handles = {
            "broken": await client.start_workflow(
                "OrderWorkflow", id=f"order-storefront-STUCK-{tag}", task_queue=queues[0]
            ),
            "retrying": await client.start_workflow(
                "ReturnWorkflow", id=f"return-storefront-STUCK-{tag}", task_queue=queues[0]
            ),
            "healthy": await client.start_workflow(
                "OrderWorkflow", id=f"order-storefront-WAITING-{tag}", task_queue=queues[1]
            ),
        }
        try:
            yield handles
        finally:
            for handle in handles.values():
                with contextlib.suppress(RPCError):  # ended by the test already
                    await handle.terminate("stuck test over")
            # Until the next scan the console still lists them: wait, so the tests after
            # this one find an inbox without them.
            await eventually(lambda: _inbox_without(console, handles), seconds=20)


async def _inbox_without(console: Console, handles: dict[str, WorkflowHandle[Any, Any]]) -> bool:
    async with console.api("view-1") as api:
        listed = {i["workflow_id"] for i in (await api.get("/api/inbox")).json()}
    return not listed & {h.id for h in handles.values()}


async def eventually(check: Callable[[], Any], seconds: float = 40) -> Any:
    """Poll `check` (async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"never true within {seconds} s")


async def test_stuck_cases_show_in_the_inbox_lists_and_detail(
    console: Console, probes: dict[str, WorkflowHandle[Any, Any]]
) -> None:
    broken, retrying, healthy = (probes[k].id for k in ("broken", "retrying", "healthy"))
    async with console.api("view-1") as api:

        async def both_stuck() -> dict[str, Any] | None:
            items = {i["workflow_id"]: i for i in (await api.get("/api/inbox")).json()}
            return items if broken in items and retrying in items else None

        inbox = await eventually(both_stuck)
        order = inbox[broken]["stuck"]
        assert (order["reason"], order["kind"]) == ("workflow_task_failing", "order")
        assert order["attempts"] >= 3 and ILLEGAL in order["last_error"]
        assert inbox[broken]["approval"] is None
        refund = inbox[retrying]["stuck"]
        assert (refund["reason"], refund["activity"]) == ("activity_retrying", "stuck_probe_refund")
        assert refund["attempts"] >= 10 and UNAVAILABLE in refund["last_error"]
        assert healthy not in inbox
        # Stuck cases come before the questions with deadlines.
        order_of = [i["stuck"] is not None for i in (await api.get("/api/inbox")).json()]
        assert order_of == sorted(order_of, reverse=True)

        stuck_orders = (await api.get("/api/orders", params={"stuck": "true"})).json()
        assert [r["workflow_id"] for r in stuck_orders] == [broken]
        others = (await api.get("/api/orders", params={"stuck": "false", "limit": 500})).json()
        assert healthy in {r["workflow_id"] for r in others}
        assert broken not in {r["workflow_id"] for r in others}
        stuck_returns = (await api.get("/api/returns", params={"stuck": "true"})).json()
        assert [r["workflow_id"] for r in stuck_returns] == [retrying]

        case = (await api.get(f"/api/cases/{broken}")).json()
        assert case["stuck"]["reason"] == "workflow_task_failing"
        assert ILLEGAL in case["summary"]["stuck"]["last_error"]
        assert (await api.get(f"/api/cases/{healthy}")).json()["stuck"] is None

    typed = await crossdock(console, "view-1", "inbox")
    assert typed.exit_code == 0, typed.output
    assert broken in typed.output and "workflow task failing" in typed.output

    async with logged_in(console) as browser:
        page = (await browser.get("/console")).text
        assert f'href="/console/cases/{broken}"' in page and 'data-testid="stuck"' in page
        listed = (await browser.get("/console/orders", params={"stuck": "yes"})).text
        assert broken in listed and healthy not in listed
        detail = (await browser.get(f"/console/cases/{retrying}")).text
        assert "activity retrying" in detail and UNAVAILABLE in detail


async def test_an_ended_case_leaves_the_stuck_inbox(
    console: Console, probes: dict[str, WorkflowHandle[Any, Any]]
) -> None:
    broken = probes["broken"]
    async with console.api("view-1") as api:

        async def listed() -> bool:
            return any(i["workflow_id"] == broken.id for i in (await api.get("/api/inbox")).json())

        await eventually(listed)
        # What `temporal workflow reset` after a fix, or a termination, leads to.
        await broken.terminate("fixed by hand")

        async def gone() -> bool:
            return not await listed()

        await eventually(gone, seconds=15)
