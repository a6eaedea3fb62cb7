"""What an operator waits for: a decision through the console API answered with the
order's new state, and a new question's time to appear in the inbox, with orders
waiting in review and happy-path orders flowing through the same worker meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

import httpx

from bench.figures import Figures, percentile
from bench.operator_legs import direct_decide, task_legs
from bench.orders import HappyOrders, bounded, run_orders
from bench.stack import BenchStack
from crossdock.demo import NEAR_MISS_BUYERS, place
from crossdock.identity import Accounts
from crossdock.models.approval import Role
from crossdock.models.order import Buyer, Channel, Order
from crossdock.store import Database, upgrade

INBOX_POLL_SECONDS = 0.05


def operator_token(stack: BenchStack, account: str = "bench-ops") -> str:
    """An API token of a fresh operator account."""
    db = Database.from_settings(stack.settings)
    try:
        upgrade(db)
        accounts = Accounts(db)
        accounts.add(account, Role.OPERATOR)  # a token, no password
        return accounts.issue_token(account, "bench").token
    finally:
        db.dispose()


def in_review(orders: HappyOrders) -> Order:
    """A storefront order whose buyer resembles a denied party: screening asks a person."""
    order = orders.next(Channel.STOREFRONT)
    buyer = NEAR_MISS_BUYERS[0]
    return order.model_copy(
        update={
            "buyer": Buyer(name=buyer, email=order.buyer.email),
            "ship_to": order.ship_to.model_copy(update={"name": buyer}),
        }
    )


async def wait_in_inbox(
    api: httpx.AsyncClient, ids: set[str], within: float = 120
) -> dict[str, float]:
    """Poll the inbox until every id in `ids` is there; {id: seconds since opened}."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + within
    while ids - seen.keys():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not in the inbox after {within}s: {sorted(ids - seen.keys())}")
        answer = await api.get("/api/inbox")
        answer.raise_for_status()
        now = datetime.now(UTC)
        for item in answer.json():
            if item["workflow_id"] in ids and item["workflow_id"] not in seen:
                opened = datetime.fromisoformat(item["approval"]["opened_at"])
                seen[item["workflow_id"]] = (now - opened).total_seconds()
        await asyncio.sleep(INBOX_POLL_SECONDS)
    return seen


async def decide(api: httpx.AsyncClient, workflow_id: str) -> tuple[float, str]:
    """Approve one order's review; seconds to the answer, and the state it reports."""
    began = time.perf_counter()
    answer = await api.post(
        f"/api/cases/{workflow_id}/decide",
        json={"key": "review", "action": "approve", "reason": "buyer checked by phone"},
    )
    seconds = time.perf_counter() - began
    answer.raise_for_status()
    return seconds, str(answer.json()["result"]["state"])


async def operator_round_trip(
    stack: BenchStack, orders: HappyOrders, waiting: int, flowing: int, figures: Figures
) -> dict[str, object]:
    """`waiting` orders in review; decided one by one while `flowing` orders run."""
    headers = {"Authorization": f"Bearer {operator_token(stack)}"}
    reviews = [in_review(orders) for _ in range(waiting)]
    async with httpx.AsyncClient(
        base_url=stack.settings.intake_url, headers=headers, timeout=30
    ) as api:
        await bounded(8, [lambda o=o: place(stack.sandbox, o) for o in reviews])  # type: ignore[misc]
        fresh = await wait_in_inbox(api, {o.workflow_id for o in reviews})
        flow = asyncio.create_task(run_orders(stack, orders.batch(flowing, [Channel.STOREFRONT])))
        # Alternated: through the console API, then the same update from the bench's
        # own client, so the console's share is the difference under the same load.
        answers, direct = [], []
        try:
            for i, o in enumerate(reviews):
                if i % 2 == 0:
                    answers.append(await decide(api, o.workflow_id))
                else:
                    direct.append(await direct_decide(stack, o.workflow_id))
        finally:
            with contextlib.suppress(Exception):
                await flow
    trips = [seconds * 1000 for seconds, _ in answers]
    figures.add("operator decision p50", percentile(trips, 50), "ms", target="<= 100 ms")
    figures.add("operator decision p99", percentile(trips, 99), "ms", target="<= 250 ms")
    bare = [seconds * 1000 for seconds, _ in direct]
    figures.add("decide update from a bare client p50", percentile(bare, 50), "ms")
    figures.add("decide update from a bare client p99", percentile(bare, 99), "ms")
    legs = [x for x in [await task_legs(stack.client, o.workflow_id) for o in reviews] if x]
    for name, values in (
        ("queued", [x.queued for x in legs]),
        ("worked", [x.worked for x in legs]),
    ):
        note = "the workflow task that accepted the decision, from its history"
        figures.add(f"decision task {name} p50", percentile(values, 50), "ms", note=note)
        figures.add(f"decision task {name} p99", percentile(values, 99), "ms", note=note)
    ages = [seconds * 1000 for seconds in fresh.values()]
    note = f"inbox polled every {INBOX_POLL_SECONDS * 1000:.0f} ms"
    figures.add("inbox freshness p50", percentile(ages, 50), "ms", note=note)
    figures.add("inbox freshness p99", percentile(ages, 99), "ms", target="<= 1000 ms", note=note)
    states = sorted({state for _, state in answers + direct})
    return {"decisions": len(answers), "answered_states": states, "waiting": waiting}
