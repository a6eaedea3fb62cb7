"""An account scoped to destination countries, on a real stack: a German desk's operator
sees, opens and acts on orders shipped to Germany only. A US order answers 404 on its
page, audit and actions, is missing from the lists, the inbox and the views' counts, and
is refused in bulk; an unscoped operator still sees both."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from playwright.async_api import Page, expect

from crossdock.demo import NEAR_MISS_BUYERS, DemoOrders, place
from crossdock.identity import Accounts
from crossdock.models.approval import Principal, Role
from crossdock.models.order import Buyer, Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.models.returns import (
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnSource,
    ReturnTimers,
)
from crossdock.store import Database
from starter.returns import start_return
from tests.browser.conftest import PASSWORD, Console, delivered_order, wait_for_state
from tests.browser.test_console_pages import browser, log_in, page

__all__ = ["browser", "page"]

_orders = DemoOrders(seed=1414, decline_rate=0.0, review_rate=0.0)


def order_to(country: str) -> Order:
    """A storefront order shipped to `country`."""
    while (order := _orders.next(channel=Channel.STOREFRONT)).ship_to.country != country:
        pass
    return order


def in_review_to(country: str) -> Order:
    """A storefront order shipped to `country` whose buyer screening must review."""
    order = order_to(country)
    buyer = NEAR_MISS_BUYERS[0]
    return order.model_copy(
        update={
            "buyer": Buyer(name=buyer, email=order.buyer.email),
            "ship_to": order.ship_to.model_copy(update={"name": buyer}),
        }
    )


@pytest.fixture(scope="module")
async def placed(console: Console) -> dict[str, str]:
    """One order in review to Germany, one to the US, and the German desk's API token."""
    db = Database.from_settings(console.stack.settings)
    try:
        accounts = Accounts(db)
        accounts.add("de-desk", Role.OPERATOR, PASSWORD, countries=["DE"])
        token = accounts.issue_token("de-desk", "tests").token
    finally:
        db.dispose()
    ids = {"token": token}
    for country in ("DE", "US"):
        order = in_review_to(country)
        await place(console.stack.sandbox, order)
        ids[country] = order.workflow_id
    for country in ("DE", "US"):
        await wait_for_state(console, ids[country], {OrderState.IN_REVIEW})
    return ids


async def test_a_german_desk_gets_404_on_a_us_order_and_never_lists_it(
    console: Console, placed: dict[str, str]
) -> None:
    us, de = placed["US"], placed["DE"]
    headers = {"Authorization": f"Bearer {placed['token']}"}
    async with httpx.AsyncClient(base_url=console.url, headers=headers, timeout=30) as desk:
        answers = [
            await desk.get(f"/api/cases/{us}"),
            await desk.get(f"/api/audit/{us}"),
            await desk.post(f"/api/cases/{us}/hold", json={"reason": "not ours"}),
            await desk.post(f"/api/cases/{us}/stuck/retry", json={"reason": "x"}),
        ]
        own = await desk.get(f"/api/cases/{de}")
        orders = (await desk.get("/api/orders", params={"limit": 500})).json()
        reviews = (await desk.get("/api/orders", params={"state": "in_review"})).json()
        inbox = (await desk.get("/api/inbox")).json()
        returns = (await desk.get("/api/returns")).json()
        bulk = await desk.post(
            "/api/bulk", json={"action": "assign", "workflow_ids": [us, de], "reason": "mine"}
        )
    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert all(a.json()["error"] == "not_found" for a in answers)
    assert own.status_code == 200 and own.json()["summary"]["destination"] == "DE"
    assert {row["destination"] for row in orders} == {"DE"}
    assert de in {row["workflow_id"] for row in reviews}
    assert us not in {row["workflow_id"] for row in orders}
    assert {item["destination"] for item in inbox} == {"DE"}
    assert de in {i["workflow_id"] for i in inbox} and us not in {i["workflow_id"] for i in inbox}
    # Returns take their order's destination; the German desk sees the German ones only.
    assert {row["destination"] for row in returns} <= {"DE"}
    results = {r["workflow_id"]: r for r in map(json.loads, bulk.text.splitlines())}
    assert results[us] == {
        "workflow_id": us,
        "outcome": "refused",
        "message": f"no case {us!r} for this account",
    }
    assert results[de]["outcome"] == "accepted"
    async with console.api("ops-1") as ops:
        everyone = (await ops.get("/api/orders", params={"state": "in_review"})).json()
        attempts = (await ops.get(f"/api/cases/{us}")).json()["attempts"]
    assert {de, us} <= {row["workflow_id"] for row in everyone}
    refused = [a for a in attempts if a["principal_id"] == "de-desk"]
    assert {a["action"] for a in refused} >= {"hold", "assign"}
    assert all(a["outcome"] == "refused" for a in refused)


async def test_a_german_desk_searches_german_orders_only_and_gets_no_totals(
    console: Console, placed: dict[str, str]
) -> None:
    us, de = placed["US"], placed["DE"]
    headers = {"Authorization": f"Bearer {placed['token']}"}
    async with console.api("ops-1") as ops:  # the projection has caught up with both
        for workflow_id in (us, de):
            for _ in range(120):
                rows = (await ops.get("/api/search/orders", params={"limit": 200})).json()
                if workflow_id in {r["workflow_id"] for r in rows["orders"]}:
                    break
                await asyncio.sleep(0.25)
    async with httpx.AsyncClient(base_url=console.url, headers=headers, timeout=30) as desk:
        listed = (await desk.get("/api/search/orders", params={"limit": 200})).json()
        asked_for_us = await desk.get("/api/search/orders", params={"destination": "US"})
        totals = [
            await desk.get("/api/kpis"),
            await desk.get("/api/health"),
            await desk.get("/api/export.xlsx"),
        ]
    found = {r["workflow_id"] for r in listed["orders"]}
    assert de in found and us not in found
    assert {r["destination"] for r in listed["orders"]} == {"DE"}
    assert asked_for_us.status_code == 404
    # Marketplace totals span every country: not for an account scoped to some.
    assert [t.status_code for t in totals] == [403, 403, 403]


async def test_the_codec_decodes_the_german_orders_payloads_only(
    console: Console, placed: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {placed['token']}"}
    answers = {}
    async with httpx.AsyncClient(base_url=console.url, headers=headers, timeout=30) as desk:
        for country in ("DE", "US"):
            handle = console.stack.client.get_workflow_handle(placed[country])
            history = await handle.fetch_history()
            started = history.events[0].workflow_execution_started_event_attributes
            body = {"payloads": [MessageToDict(started.input.payloads[0])]}
            answers[country] = await desk.post("/codec/decode", json=body)
    assert answers["DE"].status_code == 200, answers["DE"].text
    assert answers["US"].status_code == 403
    assert "works on DE only" in answers["US"].text


async def test_a_return_carries_its_orders_destination_into_the_scope(
    console: Console, placed: dict[str, str]
) -> None:
    opened = {}
    for country in ("DE", "US"):
        order = await delivered_order(console, order_to(country))
        line = order.items[0]
        request = ReturnRequest(
            channel=order.channel,
            rma=f"RMA-{order.channel_order_id}",
            order_id=order.workflow_id,
            lines=[ReturnLine(sku=line.sku, quantity=1)],
            reason=ReturnReason.CHANGED_MIND,
            source=ReturnSource.OPERATOR,
            requested_at=datetime.now(UTC),
            requested_by=Principal(id="ops-1", role=Role.OPERATOR),
        )
        handle = await start_return(
            console.stack.client, console.stack.settings, request, ReturnTimers()
        )
        assert handle is not None
        opened[country] = request.workflow_id
    headers = {"Authorization": f"Bearer {placed['token']}"}
    async with httpx.AsyncClient(base_url=console.url, headers=headers, timeout=30) as desk:
        returns = (await desk.get("/api/returns")).json()
        own = await desk.get(f"/api/cases/{opened['DE']}")
        other = await desk.get(f"/api/cases/{opened['US']}")
    listed = {row["workflow_id"]: row["destination"] for row in returns}
    assert listed.get(opened["DE"]) == "DE" and opened["US"] not in listed
    assert (own.status_code, other.status_code) == (200, 404)


async def test_a_german_desks_list_in_the_browser(
    page: Page, console: Console, placed: dict[str, str]
) -> None:
    us, de = placed["US"], placed["DE"]
    await log_in(page, "de-desk")
    # The live inbox refreshes on the desk's own cases only: a new US review is not news.
    before = await (await page.request.get("/console/inbox/signature")).json()
    another = in_review_to("US")
    await place(console.stack.sandbox, another)
    await wait_for_state(console, another.workflow_id, {OrderState.IN_REVIEW})
    after = await (await page.request.get("/console/inbox/signature")).json()
    assert before == after
    await page.goto("/console/orders?state=in_review")
    await expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    await expect(page.get_by_role("link", name=de)).to_be_visible()
    await expect(page.get_by_role("link", name=us)).to_have_count(0)
    await page.goto("/console")
    await expect(page.get_by_role("link", name=de)).to_be_visible()
    await expect(page.get_by_role("link", name=us)).to_have_count(0)
    answer = await page.goto(f"/console/cases/{us}")
    assert answer is not None and answer.status == 404
    await page.goto("/console/account")
    await expect(page.locator("[data-scope=countries]")).to_have_text("DE")
    await expect(page.locator("[data-scope=marketplaces]")).to_have_text("all")
