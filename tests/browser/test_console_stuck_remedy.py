"""An admin mends a stuck case from the console: a return whose refund activity was
retried past the threshold (its next attempt an hour away) shows in the stuck view with
its last error; once "the fix is deployed" the admin retries it now, the return
completes, and the retry is in the audit log. Others may look but not retry."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from playwright.async_api import Page, expect
from temporalio.worker import Worker

from crossdock.identity import Accounts
from crossdock.models.approval import Role
from crossdock.store import Database
from crossdock.workflow_sandbox import RUNNER
from tests.browser.conftest import PASSWORD, Console
from tests.browser.stuck_probes import (
    FIXED,
    UNAVAILABLE,
    FixableReturnWorkflow,
    refund_until_fixed,
)
from tests.browser.test_console_pages import browser, log_in, page

__all__ = ["browser", "page"]


@pytest.fixture(scope="module")
def admin(console: Console) -> str:
    db = Database.from_settings(console.stack.settings)
    Accounts(db).add("admin-1", Role.ADMIN, PASSWORD)
    db.dispose()
    return "admin-1"


async def test_a_stuck_case_is_shown_and_retried_by_an_admin(
    page: Page, console: Console, admin: str
) -> None:
    client = console.stack.client
    queue = f"stuck-fix-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[FixableReturnWorkflow],
        activities=[refund_until_fixed],
        workflow_runner=RUNNER,
    )
    async with worker:
        handle = await client.start_workflow(
            "ReturnWorkflow", id=f"return-storefront-FIX-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        row = page.get_by_test_id(f"stuck-{handle.id}")
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
        FIXED["refund"] = True
        await row.get_by_label("Reason").fill("payments back up")
        await row.get_by_role("button", name="Retry now").click()
        await expect(page.get_by_role("status")).to_contain_text("runs again now")
        await asyncio.wait_for(handle.result(), timeout=20)

    async with console.api("view-1") as api:
        attempts = (await api.get(f"/api/cases/{handle.id}")).json()["attempts"]
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
