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


# How a decision was sent ("console" or "bare"), the order, sent and answered (epoch
# seconds), and the seconds the caller waited.
Call = tuple[str, str, float, float, float]


async def decision_figures(stack: BenchStack, calls: list[Call], figures: Figures) -> None:
    """The round trips by path, and each leg of the decision's way (bench/operator_legs.py)."""
    legs: dict[str, list[float]] = {}
    for how, workflow_id, sent, answered, seconds in calls:
        legs.setdefault(how, []).append(seconds * 1000)
        task = await task_legs(stack.client, workflow_id)
        if task is None:
            continue
        there, back = task.around(sent, answered)
        for leg, value in (
            ("to the server", there),
            ("queued", task.queued),
            ("worked", task.worked),
            ("back", back),
        ):
            legs.setdefault(f"{how}: {leg}", []).append(value)
    names = {"console": "operator decision", "bare": "decide update from a bare client"}
    for how in ("console", "bare"):
        targets = {50: "<= 100 ms", 99: "<= 250 ms"} if how == "console" else {}
        for p in (50, 99):
            value = percentile(legs.get(how, []), p)
            figures.add(f"{names[how]} p{p}", value, "ms", target=targets.get(p, ""))
        for leg in ("to the server", "queued", "worked", "back"):
            values = legs.get(f"{how}: {leg}", [])
            for p in (50, 99):
                figures.add(f"{names[how]}: {leg} p{p}", percentile(values, p), "ms", note=LEGS)


LEGS = (
    "to the server: sent → its workflow task scheduled; queued: → started; worked: → "
    "completed (history times); back: → answer received"
)


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
        calls: list[Call] = []
        answers: list[tuple[float, str]] = []
        try:
            for i, o in enumerate(reviews):
                how = "console" if i % 2 == 0 else "bare"
                sent = time.time()
                if how == "console":
                    seconds, state = await decide(api, o.workflow_id)
                else:
                    seconds, state = await direct_decide(stack, o.workflow_id)
                answers.append((seconds, state))
                calls.append((how, o.workflow_id, sent, sent + seconds, seconds))
        finally:
            with contextlib.suppress(Exception):
                await flow
    await decision_figures(stack, calls, figures)
    ages = [seconds * 1000 for seconds in fresh.values()]
    note = f"inbox polled every {INBOX_POLL_SECONDS * 1000:.0f} ms"
    figures.add("inbox freshness p50", percentile(ages, 50), "ms", note=note)
    figures.add("inbox freshness p99", percentile(ages, 99), "ms", target="<= 1000 ms", note=note)
    states = sorted({state for _, state in answers})
    return {"decisions": len(answers), "answered_states": states, "waiting": waiting}
