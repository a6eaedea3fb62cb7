"""A goodwill refund from a buyer's conversation, in a real browser on a real stack: an
operator offers more than the finance threshold from the conversation page, a finance
approver (another person) approves it on the same page, and the payment provider's ledger
shows one refund of exactly that amount; the order's ledger counts it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from playwright.async_api import Page, expect

from crossdock.models.case import BuyerMessage
from crossdock.models.order import Order
from crossdock.models.order_status import OrderStatus
from starter.cases import deliver_buyer_message
from tests.browser.conftest import Console, delivered_order
from tests.browser.test_console_pages import browser, log_in, page

__all__ = ["browser", "page"]


async def _case(console: Console, order: Order) -> str:
    message = BuyerMessage(
        channel=order.channel,
        thread=f"goodwill-{order.channel_order_id}",
        message_id=f"browser-goodwill-{order.channel_order_id}",
        text="The parcel came a week late and the box was crushed.",
        received_at=datetime.now(UTC),
        order_id=order.channel_order_id,
        email=order.buyer.email,
    )
    stack = console.stack
    return await deliver_buyer_message(stack.client, message, stack.settings.task_queue)


async def _refunds(console: Console, order: Order) -> list[dict[str, Any]]:
    response = await console.stack.sandbox.get(
        "/_sandbox/ledger", params={"partner": "stripe", "kind": "refund"}
    )
    response.raise_for_status()
    return [e for e in response.json() if e["details"].get("order") == order.workflow_id]


async def test_finance_approves_a_goodwill_refund_an_operator_offered_from_the_case(
    page: Page, console: Console
) -> None:
    order = await delivered_order(console)
    case_id = await _case(console, order)

    await log_in(page, "ops-1")
    await page.goto(f"/console/conversations/{case_id}")
    for _ in range(60):  # the form shows once the order's facts are read
        if await page.get_by_test_id("goodwill-form").count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await page.get_by_test_id("goodwill-amount").fill("30.00")
    await page.get_by_test_id("goodwill-reason").fill("a week late, box crushed")
    await page.get_by_test_id("goodwill-send").click()
    await expect(page.get_by_role("status")).to_contain_text("awaits a finance approver")
    await expect(page.get_by_test_id("goodwill")).to_contain_text("awaiting finance")
    assert await _refunds(console, order) == []

    await page.context.clear_cookies()
    await log_in(page, "fin-1")
    await page.goto(f"/console/conversations/{case_id}")
    await (
        page.get_by_test_id("approve_refund-goodwill-1")
        .locator("xpath=..")
        .locator("input[name=reason]")
        .fill("checked the tracking")
    )
    await page.get_by_test_id("approve_refund-goodwill-1").click()
    await expect(page.get_by_role("status")).to_contain_text("approved")
    for _ in range(60):
        await page.reload()
        if "succeeded" in await page.get_by_test_id("goodwill").inner_text():
            break
        await asyncio.sleep(0.5)
    await expect(page.get_by_test_id("goodwill")).to_contain_text("fin-1")
    refunds = await _refunds(console, order)
    assert [(e["amount"], e["currency"]) for e in refunds] == [(3000, "EUR")]
    assert refunds[0]["idempotency_key"] == f"{case_id}/goodwill-1"
    handle = console.stack.client.get_workflow_handle(order.workflow_id)
    status = await handle.query("status", result_type=OrderStatus)
    made = [r for r in status.refund_reservations if r.reservation_id.startswith(case_id)]
    assert [(r.state, r.amount.amount) for r in made] == [("succeeded", 3000)]
