"""A buyer conversation in a real browser on a real stack: a German buyer writes that the
delivered mug is broken; the operator opens the conversation, finds a reply suggested in
German from the order's facts, edits it and sends it; the buyer's thread shows both.

`CROSSDOCK_CONSOLE_SCREENSHOT=docs/console.png` also saves the conversation as
docs/console-conversation.png (the README's screenshot)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Page, expect

from crossdock.models.case import BuyerMessage
from crossdock.models.order import Address
from starter.cases import deliver_buyer_message
from tests.browser.conftest import Console, delivered_order, eur_order
from tests.browser.test_console_pages import browser, log_in, page

__all__ = ["browser", "page"]


async def test_an_operator_answers_a_buyer_from_the_conversation_page(
    page: Page, console: Console
) -> None:
    berlin = Address(name="Anna", line1="Weg 1", city="Berlin", postal_code="10115", country="DE")
    order = await delivered_order(console, eur_order().model_copy(update={"ship_to": berlin}))
    message = BuyerMessage(
        channel=order.channel,
        thread=order.channel_order_id,
        message_id=f"browser-{order.channel_order_id}",
        text="Guten Tag, die Tasse ist kaputt angekommen. Was nun?",
        received_at=datetime.now(UTC),
        order_id=order.channel_order_id,
        email=order.buyer.email,
    )
    stack = console.stack
    case_id = await deliver_buyer_message(stack.client, message, stack.settings.task_queue)

    await log_in(page, "ops-1")
    await page.goto(f"/console/conversations/{case_id}")
    reply = page.get_by_test_id("reply-text")
    for _ in range(60):  # the suggestion follows the order's facts being read
        if (await reply.input_value()).strip():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    suggested = await reply.input_value()
    assert "zugestellt" in suggested  # from the order's facts: it was delivered
    await reply.fill("Guten Tag, das tut uns leid! Wir senden Ihnen sofort eine neue Tasse.")
    await page.get_by_test_id("send-reply").click()
    await expect(page.get_by_role("status")).to_contain_text("reply sent")
    await expect(page.get_by_test_id("state")).to_contain_text("answered")
    messages = page.get_by_test_id("message")
    await expect(messages).to_have_count(2)
    await expect(messages.nth(1)).to_contain_text("neue Tasse")
    await expect(messages.nth(1)).to_contain_text("ops-1")
    shot = os.environ.get("CROSSDOCK_CONSOLE_SCREENSHOT")
    if shot:
        await page.screenshot(path=str(Path(shot).with_name("console-conversation.png")))
