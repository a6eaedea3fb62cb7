"""The web console in a real browser (Playwright driving Debian's headless chromium) on a
real stack: log in, find an order in review in the inbox, approve it and see it move on,
reject one with a reason, and an operator refused on a decision only finance may take.

`CROSSDOCK_CONSOLE_SCREENSHOT=docs/console.png` also saves the inbox and (as
docs/console-case.png) a refused decision as the README's screenshots."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Collection

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from crossdock.models.approval import Principal, Role
from crossdock.sandbox.customs.rules import default_rules
from tests.browser.conftest import (
    MOVED_ON,
    PASSWORD,
    Console,
    case_state,
    delivered_order,
    large_return,
    open_dispute,
    order_in_review,
)

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium") or shutil.which(CHROMIUM)
    assert executable, "install Debian's chromium: apt-get install -y chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser, console: Console) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=console.url, viewport={"width": 1280, "height": 800}
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()


async def log_in(page: Page, account: str, password: str = PASSWORD) -> None:
    await page.goto("/console")
    await page.get_by_label("Account id").fill(account)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def decide(page: Page, action: str, reason: str = "") -> None:
    await page.get_by_label(action.replace("_", " "), exact=True).check()
    if reason:
        await page.get_by_label("Reason (required").fill(reason)
    await page.get_by_role("button", name="Send decision").click()


async def wait_until_state(page: Page, states: Collection[str], tries: int = 60) -> str:
    """Reload the case page until its state is one of `states`."""
    state = ""
    for _ in range(tries):
        state = (await page.get_by_test_id("state").inner_text()).strip()
        if state in states:
            return state
        await page.wait_for_timeout(500)
        await page.reload()
    raise AssertionError(f"state stayed {state!r}, expected one of {states}")


async def test_login_logout_and_a_wrong_password(page: Page) -> None:
    await page.goto("/console/orders")
    await expect(page).to_have_url("/console/login")
    await log_in(page, "ops-1", "not the password")
    await expect(page.get_by_role("alert")).to_have_text("Account id or password not accepted.")
    await log_in(page, "ops-1")
    await expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    await expect(page.get_by_text("Signed in as ops-1 (operator)")).to_be_visible()
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await page.goto("/console")
    await expect(page).to_have_url("/console/login")


async def test_approve_an_order_in_review_from_the_inbox(page: Page, console: Console) -> None:
    workflow_id = await order_in_review(console)
    await log_in(page, "ops-1")
    link = page.get_by_role("link", name=workflow_id)
    await expect(link).to_be_visible()
    screenshot = os.environ.get("CROSSDOCK_CONSOLE_SCREENSHOT")
    if screenshot:
        await page.screenshot(path=screenshot, full_page=True)
    await link.click()
    await expect(page.get_by_role("heading", name="Waiting for a decision: review")).to_be_visible()
    # The landed-cost quote names the customs rules it used, version and period.
    await expect(page.get_by_test_id("customs")).to_contain_text(
        re.compile(rf"rules {re.escape(default_rules().version)} \(\w\w rules in force from ")
    )
    await decide(page, "approve", "buyer is not the listed party")
    await expect(page.get_by_role("status")).to_contain_text("decide accepted")
    assert await wait_until_state(page, MOVED_ON)
    await expect(page.get_by_text("Waiting for a decision")).to_have_count(0)
    await expect(
        page.get_by_role("cell", name="approved by ops-1: buyer is not the listed party")
    ).to_be_visible()
    await page.get_by_role("link", name="full audit timeline").click()
    await expect(page.get_by_role("heading", name=f"Audit: {workflow_id}")).to_be_visible()
    await expect(page.get_by_role("cell", name="ops-1 (operator)")).to_be_visible()


async def test_reject_needs_a_reason_and_cancels_the_order(page: Page, console: Console) -> None:
    workflow_id = await order_in_review(console)
    await log_in(page, "ops-2")
    await page.goto(f"/console/cases/{workflow_id}")
    await decide(page, "reject")
    await expect(page.get_by_role("alert")).to_contain_text("a reason is required to reject")
    await decide(page, "reject", "the buyer matches the denied party")
    await expect(page.get_by_role("status")).to_contain_text("decide accepted")
    assert await wait_until_state(page, {"cancelled"}) == "cancelled"
    attempts = page.locator("table.attempts tbody tr")
    await expect(attempts).to_have_count(2)
    await expect(attempts.first).to_contain_text("the buyer matches the denied party")


async def test_an_operator_is_refused_a_decision_only_finance_may_take(
    page: Page, console: Console
) -> None:
    opened_by = Principal(id="ops-2", role=Role.OPERATOR)
    workflow_id = await large_return(console, requested_by=opened_by)
    await log_in(page, "ops-1")
    await page.goto("/console")
    await page.get_by_role("link", name=workflow_id).click()
    await expect(page.get_by_text("finance or admin from €500.00")).to_be_visible()
    await decide(page, "approve", "photos show the damage")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text(re.compile(r"Refused: approving [\d.]+ EUR"))
    await expect(alert).to_contain_text("needs role finance or admin")
    await expect(page.locator("table.attempts tr.refused")).to_have_count(1)
    await expect(page.get_by_role("heading", name="Waiting for a decision")).to_be_visible()
    screenshot = os.environ.get("CROSSDOCK_CONSOLE_SCREENSHOT")
    if screenshot:
        await page.screenshot(path=screenshot.replace(".png", "-case.png"), full_page=True)


async def test_dispute_evidence_and_return_inspection_forms(page: Page, console: Console) -> None:
    order = await delivered_order(console)
    dispute = await open_dispute(console, order, "product_not_received")
    await log_in(page, "ops-1")
    await page.goto("/console/disputes?state=awaiting_decision")
    await page.get_by_role("link", name=dispute).click()
    await page.get_by_text("Edit the staged evidence").click()
    await page.get_by_label("Field (Stripe's name)").fill("uncategorized_text")
    await page.get_by_label("Value (empty removes it)").fill("buyer confirmed receipt")
    await page.get_by_role("button", name="Save evidence").click()
    await expect(page.get_by_role("status")).to_contain_text("evidence accepted")
    await decide(page, "approve")
    await expect(page.get_by_role("alert")).to_contain_text("may not also approve contesting it")

    returned = await large_return(console, requested_by=Principal(id="ops-2", role=Role.OPERATOR))
    async with console.api("fin-1") as api:
        key = (await api.get(f"/api/cases/{returned}")).json()["pending"]["key"]
        approved = await api.post(
            f"/api/cases/{returned}/decide",
            json={"key": key, "action": "approve", "option": "return_label"},
        )
        assert approved.status_code == 200, approved.text
    await case_state(console, returned, "received")
    await page.goto(f"/console/cases/{returned}")
    await page.get_by_label("Verdict").select_option("damaged")
    await page.get_by_role("button", name="Record inspection").click()
    await expect(page.get_by_role("status")).to_contain_text("inspect accepted")
    await expect(page.get_by_role("status")).to_contain_text("WALLET-LEATHER")


async def test_a_viewer_reads_a_case_without_decision_forms(page: Page, console: Console) -> None:
    workflow_id = await order_in_review(console)
    await log_in(page, "view-1")
    await page.goto(f"/console/cases/{workflow_id}")
    await expect(page.get_by_role("heading", name="Waiting for a decision: review")).to_be_visible()
    await expect(page.get_by_text("a viewer account does not decide")).to_be_visible()
    await expect(page.get_by_role("button", name="Send decision")).to_have_count(0)
    await expect(page.get_by_text("Cancel this order")).to_have_count(0)
