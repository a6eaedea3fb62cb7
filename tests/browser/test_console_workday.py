"""A working day in the console, in a real browser on a real stack: a case page that
answers at a glance, bulk approval of twenty reviews (one refused by role, and said so),
assignment and "my cases"."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect
from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.identity import Accounts
from crossdock.models.approval import Principal, Role
from crossdock.store import Database
from tests.browser.conftest import PASSWORD, Console, case_state, large_return, order_in_review
from tests.browser.test_console_pages import browser, log_in, page

__all__ = ["browser", "page"]

REVIEWS = 19
SAVED_REVIEWS = re.compile(r"state=in_review.*columns=state(%2C|,)marketplace(%2C|,)started")
ZH_EUROS = re.compile(r"^€\d{1,3}(,\d{3})*\.\d\d$")
ZH_SHANGHAI_TIME = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d CST")


@pytest.fixture(scope="module")
async def in_review(console: Console) -> str:
    """One order in review that the tests here only read (placing one costs seconds)."""
    return await order_in_review(console)


async def test_a_case_page_shows_the_order_at_a_glance(page: Page, in_review: str) -> None:
    workflow_id = in_review
    await log_in(page, "ops-1")
    await page.goto(f"/console/cases/{workflow_id}")
    summary = page.get_by_test_id("order-summary")
    await expect(summary).to_contain_text("HS code")
    first_line = summary.locator("table.lines tbody tr").first
    await expect(first_line).to_contain_text(re.compile(r"\d{6}"))
    await expect(page.get_by_test_id("order-total")).to_contain_text("€")
    await expect(page.get_by_test_id("ship-by")).to_contain_text(re.compile(r"in \d+ (day|hour)"))
    # Late only past the deadline itself: a fresh review is neither late nor overdue.
    await expect(page.get_by_test_id("deadline")).to_contain_text(re.compile(r"in \d+"))
    await expect(page.get_by_test_id("deadline").get_by_text("late")).to_have_count(0)
    screenshot = os.environ.get("CROSSDOCK_CONSOLE_SCREENSHOT")
    if screenshot:
        shot = Path(screenshot).with_name("console-order.png")
        await page.screenshot(path=str(shot), full_page=True)


async def test_bulk_approve_twenty_reviews_one_refused_by_role(
    page: Page, console: Console
) -> None:
    started = await asyncio.gather(
        *(order_in_review(console) for _ in range(REVIEWS)),
        large_return(console, requested_by=Principal(id="ops-2", role=Role.OPERATOR)),
    )
    *orders, needs_finance = started
    await log_in(page, "ops-1")
    for workflow_id in started:
        await page.get_by_label(f"Select {workflow_id}").check()
    began = asyncio.get_running_loop().time()
    await page.get_by_role("button", name="Approve selected").click()
    summary = page.get_by_test_id("bulk-summary")
    await expect(summary).to_have_text(
        f"20 of 20 done: {REVIEWS} accepted, 1 refused", timeout=60_000
    )
    took = asyncio.get_running_loop().time() - began
    refused = page.locator(f'[data-result="{needs_finance}"]')
    await expect(refused).to_contain_text("refused")
    await expect(refused).to_contain_text("finance")
    for workflow_id in orders:
        await expect(page.locator(f'[data-result="{workflow_id}"]')).to_contain_text("accepted")
    print(f"bulk approve of 20 took {took:.1f} s")  # the timing docs/console.md quotes
    async with console.api("view-1") as api:
        attempts = (await api.get(f"/api/cases/{needs_finance}")).json()["attempts"]
    assert [a["outcome"] for a in attempts if a["principal_id"] == "ops-1"] == ["refused"]


async def test_assign_and_my_cases(page: Page, console: Console, in_review: str) -> None:
    mine, theirs = await order_in_review(console), in_review
    await log_in(page, "ops-2")
    await page.get_by_label(f"Select {mine}").check()
    await page.get_by_role("button", name="Assign selected").click()
    await expect(page.get_by_test_id("bulk-summary")).to_have_text(
        "1 of 1 done: 1 accepted, 0 refused"
    )
    await page.goto("/console?mine=true")
    await expect(page.get_by_role("link", name=mine)).to_be_visible()
    await expect(page.get_by_role("link", name=theirs)).to_have_count(0)


async def test_bulk_from_the_terminal_with_ids_on_stdin(console: Console) -> None:
    orders = await asyncio.gather(order_in_review(console), order_in_review(console))
    env = {"CROSSDOCK_CONSOLE_URL": console.url, "COLUMNS": "300"}
    env["CROSSDOCK_TOKEN"] = console.tokens["ops-1"]
    ids = "\n".join([*orders, "order-storefront-NOSUCH"]) + "\n"
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["bulk", "hold", "-", "--reason", "address check"], ids, env
    )
    assert result.exit_code == 1, result.output  # one refused
    assert "2 accepted, 1 refused." in result.output
    assert "order-storefront-NOSUCH" in result.output and "refused" in result.output
    for workflow_id in orders:
        await case_state(console, workflow_id, "in_review")
        async with console.api("view-1") as api:
            status = (await api.get(f"/api/cases/{workflow_id}")).json()["status"]
        assert status["hold"]["reason"] == "address check"


async def test_an_operator_reads_the_console_in_chinese_in_their_time_zone(
    page: Page, console: Console, in_review: str
) -> None:
    db = Database.from_settings(console.stack.settings)
    Accounts(db).add("ops-zh", Role.OPERATOR, PASSWORD)
    db.dispose()
    workflow_id = in_review
    await log_in(page, "ops-zh")
    await page.goto("/console/account")
    await page.get_by_label("Language").select_option("zh_CN")
    await page.get_by_label("Time zone").select_option("Asia/Shanghai")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("heading", name="等待您处理")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.get_by_role("button", name="批准所选")).to_be_visible()
    screenshot = os.environ.get("CROSSDOCK_CONSOLE_SCREENSHOT")
    if screenshot:
        await page.screenshot(path=str(Path(screenshot).with_name("console-zh.png")))
    await page.goto(f"/console/cases/{workflow_id}")
    # zh-CN money (symbol first, grouped digits) and dates (年月日, China Standard Time).
    await expect(page.get_by_test_id("order-total")).to_have_text(ZH_EUROS)
    ship_by = page.get_by_test_id("ship-by")
    await expect(ship_by).to_contain_text(ZH_SHANGHAI_TIME)
    await expect(ship_by).to_contain_text(re.compile(r"\d+\s*(天|小时)后"))
    await expect(page.get_by_role("heading", name=re.compile("^订单"))).to_be_visible()


async def test_the_inbox_shows_a_new_question_without_a_reload(
    page: Page, console: Console
) -> None:
    await log_in(page, "ops-1")
    await expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    await page.evaluate("window.stillThisPage = true")
    workflow_id = await order_in_review(console)
    asked = asyncio.get_running_loop().time()
    await expect(page.get_by_role("link", name=workflow_id)).to_be_visible(timeout=5_000)
    shown = asyncio.get_running_loop().time() - asked
    assert await page.evaluate("window.stillThisPage === true"), "the page was reloaded"
    print(f"new question shown {shown:.2f} s after it was asked")  # docs/console.md
    assert shown < 2.5


async def test_a_saved_view_keeps_filters_columns_and_sort_and_is_shared_by_link(
    page: Page, in_review: str
) -> None:
    workflow_id = in_review
    await log_in(page, "ops-1")
    await page.goto("/console/orders")
    await page.locator("select[name=state]").select_option("in_review")
    await page.locator("select[name=sort]").select_option("-started")
    for column in ("Flags", "Execution", "Assigned"):
        await page.get_by_role("checkbox", name=column, exact=True).uncheck()
    await page.get_by_role("button", name="Filter").click()
    await page.get_by_label("Save this view as").fill("Reviews to do")
    await page.get_by_role("button", name="Save view").click()
    await expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    await expect(page).to_have_url(SAVED_REVIEWS)
    headers = page.locator("table.cases thead th[data-column]")
    await expect(headers).to_have_count(3)
    await expect(page.get_by_role("link", name=workflow_id)).to_be_visible()

    await page.goto("/console/views")
    row = page.get_by_test_id("views").locator("tbody tr").filter(has_text="Reviews to do")
    count = int(await row.get_by_test_id("view-count").inner_text())
    assert count >= 1
    link = await row.get_by_role("link", name="Reviews to do").get_attribute("href")
    assert link and link.startswith("/console/views/")

    await page.get_by_role("button", name="Log out").click()
    await log_in(page, "ops-2")
    await page.goto(link)
    await expect(page.get_by_role("link", name=workflow_id)).to_be_visible()
    await expect(page.locator("table.cases thead th[data-column]")).to_have_count(3)


async def test_the_terminal_speaks_the_accounts_language_too(
    console: Console, in_review: str
) -> None:
    db = Database.from_settings(console.stack.settings)
    accounts = Accounts(db)
    accounts.add("ops-cli-zh", Role.OPERATOR)
    token = accounts.issue_token("ops-cli-zh", "tests").token
    db.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=console.url, headers=headers) as api:
        wrong = await api.put("/api/me/locale", json={"language": "fr", "time_zone": "UTC"})
        chosen = {"language": "zh_CN", "time_zone": "Asia/Shanghai"}
        me = await api.put("/api/me/locale", json=chosen)
    assert wrong.status_code == 400 and "language 'fr'" in wrong.json()["message"]
    assert me.json()["language"] == "zh_CN"
    env = {"CROSSDOCK_CONSOLE_URL": console.url, "COLUMNS": "300", "CROSSDOCK_TOKEN": token}
    shown = await asyncio.to_thread(CliRunner().invoke, app, ["inbox"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "等待决定" in shown.output and "可决定者" in shown.output
    assert ZH_SHANGHAI_TIME.search(shown.output), shown.output


async def test_a_scoped_account_works_in_bulk_only_on_its_marketplaces(
    console: Console, in_review: str
) -> None:
    db = Database.from_settings(console.stack.settings)
    accounts = Accounts(db)
    accounts.add("ops-ebay", Role.OPERATOR, marketplaces=["ebay"])
    token = accounts.issue_token("ops-ebay", "tests").token
    db.dispose()
    body = {"action": "hold", "workflow_ids": [in_review], "reason": "not mine"}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=console.url, headers=headers) as api:
        answer = await api.post("/api/bulk", json=body)
    assert answer.status_code == 200, answer.text
    [result] = [json.loads(line) for line in answer.text.splitlines()]
    assert result == {
        "workflow_id": in_review,
        "outcome": "refused",
        "message": f"no case {in_review!r} for this account",
    }
