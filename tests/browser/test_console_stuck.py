"""Stuck cases are visible: an order whose workflow task keeps failing and a return whose
activity keeps retrying show as stuck in the inbox, the lists (filter `stuck`) and their
detail, with the last error; a healthy running order does not; an admin retries the
return from the stuck view once its fix is deployed (audited; others may not); once the
stuck ones are ended they leave the inbox."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from playwright.async_api import Page, expect
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from crossdock.identity import Accounts
from crossdock.models.approval import Role
from crossdock.store import Database
from crossdock.workflow_sandbox import RUNNER
from tests.browser.conftest import PASSWORD, Console
from tests.browser.stuck_probes import (
    FIXED,
    ILLEGAL,
    UNAVAILABLE,
    BrokenOrderWorkflow,
    RetryingReturnWorkflow,
    WaitingOrderWorkflow,
    refund_until_fixed,
)
from tests.browser.test_console_cli import crossdock
from tests.browser.test_console_pages import browser, log_in, page
from tests.browser.test_console_security import logged_in

__all__ = ["browser", "page"]


@pytest.fixture(scope="module")
async def probes(console: Console) -> AsyncIterator[dict[str, WorkflowHandle[Any, Any]]]:
    """Shared by this module's tests in order (getting stuck takes seconds): the admin's
    retry mends the return; the last test ends the broken order."""
    client = console.stack.client
    FIXED["refund"] = False
    queues = [f"stuck-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    tag = uuid.uuid4().hex[:8]
    failing = Worker(
        client,
        task_queue=queues[0],
        workflows=[BrokenOrderWorkflow, RetryingReturnWorkflow],
        activities=[refund_until_fixed],
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


@pytest.fixture(scope="module")
def admin(console: Console) -> str:
    db = Database.from_settings(console.stack.settings)
    Accounts(db).add("admin-1", Role.ADMIN, PASSWORD)
    db.dispose()
    return "admin-1"


async def test_a_stuck_case_is_shown_and_retried_by_an_admin(
    page: Page, console: Console, admin: str, probes: dict[str, WorkflowHandle[Any, Any]]
) -> None:
    retrying = probes["retrying"]
    row = page.get_by_test_id(f"stuck-{retrying.id}")
    await log_in(page, "ops-1")
    for _ in range(60):  # the scan runs every 2 s in these tests
        await page.goto("/console/stuck")
        if await row.count():
            break
        await asyncio.sleep(0.5)
    await expect(row).to_contain_text(UNAVAILABLE)
    await expect(row).to_contain_text("an admin retries or resets it")

    await page.get_by_role("button", name="Log out").click()
    await log_in(page, admin)
    await page.goto("/console/stuck")
    FIXED["refund"] = True  # the partner is back
    await row.get_by_label("Reason").fill("payments back up")
    await row.get_by_role("button", name="Retry now").click()
    await expect(page.get_by_role("status")).to_contain_text("runs again now")
    # Its next attempt was an hour away: only the retry makes it finish now.
    await asyncio.wait_for(retrying.result(), timeout=20)

    async with console.api("view-1") as api:
        attempts = (await api.get(f"/api/cases/{retrying.id}")).json()["attempts"]
    assert [(a["action"], a["principal_id"], a["outcome"]) for a in attempts] == [
        ("stuck_retry", admin, "accepted")
    ]


async def test_only_an_admin_may_retry_or_reset(console: Console) -> None:
    async with console.api("ops-1") as api:
        answer = await api.post(
            "/api/cases/order-storefront-X/stuck/reset", json={"reason": "fixed"}
        )
    assert answer.status_code == 403, answer.text
    assert answer.json()["message"] == "role operator may not reset a stuck case"


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
