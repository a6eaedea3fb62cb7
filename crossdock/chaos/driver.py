"""A chaos run: N orders (with returns, disputes and operator decisions) through the
embedded stack while the partners misbehave, the worker is SIGKILLed and the dev
server and the sandbox are restarted; then the invariant table.

The traffic is the demo's (crossdock/demo*.py): seeded orders placed on the sandbox
channels as buyers place them, buyers who return and dispute delivered orders, and
operators who answer most questions and leave some to the deadline policies. Chaos
events run one after another while orders are placed (each waits until the part it
hit is serving again); then the run waits until every case is closed or parked for a
person, and reads both sides: the sandbox ledgers over HTTP and the workflows through
Temporal (visibility, and each case's `status` query).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import structlog
from temporalio.client import Client
from temporalio.service import RPCError

from crossdock.chaos.cases import Case, list_cases, read_statuses, waiting
from crossdock.chaos.invariants import Evidence, Row, table, violations
from crossdock.chaos.ledgers import PartnerLedger
from crossdock.chaos.stack import ChaosStack
from crossdock.config import Settings
from crossdock.demo import DemoOrders, place
from crossdock.demo_disputes import DemoDisputes
from crossdock.demo_operator import DemoOperator
from crossdock.demo_returns import DemoReturns
from crossdock.identity.claims import signer_for
from crossdock.models.order import Order
from crossdock.temporal import connect

log = structlog.get_logger(__name__)

# Placing an order is retried this long through outages (a restarting sandbox).
PLACE_GIVE_UP_SECONDS = 60.0
DRAIN_CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class ChaosPlan:
    orders: int = 200
    faults: str = "chaos"  # a profile of crossdock/data/fault_profiles.json, or a file
    kill_worker_every: float | None = 30.0  # seconds; None: never
    restart_temporal: bool = True
    restart_sandbox: bool = True
    seed: int = 17
    place_every_seconds: float = 0.5
    # How often the demo operators, buyers and dispute desk look for work.
    look_every_seconds: float = 2.0
    # The run ends when every case has been closed or parked this long...
    settle_seconds: float = 15.0
    # ...or, at the latest, this long after the last order was placed.
    drain_timeout_seconds: float = 600.0


@dataclass(frozen=True)
class ChaosEvent:
    what: str  # kill-worker, restart-temporal, restart-sandbox
    at: float  # seconds since the first order
    took: float  # seconds until the part served again


@dataclass
class ChaosReport:
    plan: ChaosPlan
    rows: list[Row]
    faults: dict[str, int]
    events: list[ChaosEvent]
    seconds: float
    log_dir: Path
    drained: bool = True
    # What the rows were computed from (not written to the JSON).
    evidence: Evidence | None = None

    @property
    def violations(self) -> int:
        return violations(self.rows)

    def row(self, name: str) -> Row:
        return next(r for r in self.rows if r.name == name)

    def as_json(self) -> dict[str, Any]:
        return {
            "plan": asdict(self.plan),
            "seconds": round(self.seconds, 1),
            "drained": self.drained,
            "violations": self.violations,
            "rows": [row.as_json() for row in self.rows],
            "faults": self.faults,
            "events": [asdict(event) for event in self.events],
            "logs": str(self.log_dir),
        }


def schedule(plan: ChaosPlan) -> list[tuple[float, str]]:
    """When (seconds after the first order) each chaos event is due: worker kills every
    `kill_worker_every` seconds while orders are placed (at least one), the dev server
    restarted a third of the way through, the sandbox two thirds."""
    window = plan.orders * plan.place_every_seconds
    events: list[tuple[float, str]] = []
    if plan.kill_worker_every:
        at = plan.kill_worker_every
        events += [(at * n, "kill-worker") for n in range(1, int(window // at) + 1)]
        events = events or [(window / 2, "kill-worker")]
    if plan.restart_temporal:
        events.append((window / 3, "restart-temporal"))
    if plan.restart_sandbox:
        events.append((window * 2 / 3, "restart-sandbox"))
    return sorted(events)


async def run_chaos(plan: ChaosPlan, settings: Settings, log_dir: Path) -> ChaosReport:
    """Start the stack, drive the traffic and the chaos, wait, read both sides."""
    stack = ChaosStack(settings, plan.faults, log_dir)
    await stack.start()
    try:
        client = await connect(settings)
        async with (
            httpx.AsyncClient(base_url=settings.sandbox_url, timeout=10) as http,
            helpers(client, settings, plan),
        ):
            begun = time.monotonic()
            orders = generate(plan, settings)
            placing = asyncio.create_task(place_all(http, orders, plan.place_every_seconds))
            events = await chaos(stack, schedule(plan), begun)
            placed = await placing
            drained = await drain(client, placed, plan)
            faults = await stack.fault_counts()
            evidence = Evidence(placed, await list_cases(client), await PartnerLedger.read(http))
            evidence.unread = await read_statuses(client, evidence.cases)
        seconds = time.monotonic() - begun
    finally:
        await stack.stop()
    rows = table(evidence)
    return ChaosReport(plan, rows, dict(faults), events, seconds, log_dir, drained, evidence)


def generate(plan: ChaosPlan, settings: Settings) -> list[Order]:
    demo = DemoOrders(
        seed=plan.seed,
        deliver_within=timedelta(seconds=settings.demo_deliver_within_seconds),
        billing_abroad_rate=0.1,
        regular_rate=0.1,
    )
    return [demo.next() for _ in range(plan.orders)]


@contextlib.asynccontextmanager
async def helpers(client: Client, settings: Settings, plan: ChaosPlan) -> AsyncIterator[None]:
    """The demo's operator, returning buyers and dispute desk, for the whole run."""
    signer, every = signer_for(settings), plan.look_every_seconds
    jobs: list[Callable[[], Coroutine[Any, Any, None]]] = [
        DemoOperator(client, seed=plan.seed, signer=signer, look_every_seconds=every).run,
        DemoReturns(client, settings, seed=plan.seed, signer=signer, look_every_seconds=every).run,
        DemoDisputes(
            client, settings.sandbox_url, seed=plan.seed, signer=signer, look_every_seconds=every
        ).run,
    ]
    tasks = [asyncio.create_task(job()) for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def place_all(http: httpx.AsyncClient, orders: list[Order], every: float) -> list[Order]:
    """Place the orders as buyers would, through faults and a restarting sandbox; the
    orders placed (a 409 means an earlier attempt got through)."""
    placed = []
    for order in orders:
        if await place_one(http, order):
            placed.append(order)
        await asyncio.sleep(every)
    return placed


async def place_one(http: httpx.AsyncClient, order: Order) -> bool:
    deadline = time.monotonic() + PLACE_GIVE_UP_SECONDS
    while time.monotonic() < deadline:
        try:
            await place(http, order)
            return True
        except httpx.HTTPStatusError as err:
            if err.response.status_code == 409:
                return True
            if err.response.status_code < 500 and err.response.status_code != 429:
                log.warning("order_refused", order=order.workflow_id, error=err.response.text)
                return False
        except httpx.TransportError:
            pass  # the sandbox restarting, or a reset connection
        await asyncio.sleep(0.5)
    log.warning("order_not_placed", order=order.workflow_id)
    return False


async def chaos(
    stack: ChaosStack, events: list[tuple[float, str]], begun: float
) -> list[ChaosEvent]:
    actions = {
        "kill-worker": stack.kill_worker,
        "restart-temporal": stack.restart_temporal,
        "restart-sandbox": stack.restart_sandbox,
    }
    done = []
    for due, what in events:
        await asyncio.sleep(max(0.0, begun + due - time.monotonic()))
        at = time.monotonic()
        await actions[what]()
        event = ChaosEvent(what, round(at - begun, 1), round(time.monotonic() - at, 1))
        log.info("chaos_event", what=what, at=event.at, took=event.took)
        done.append(event)
    return done


async def drain(client: Client, placed: list[Order], plan: ChaosPlan) -> bool:
    """Wait until every placed order has a workflow and every case is closed or parked
    for a person, and it stayed so for `settle_seconds` (the demo buyers and operators
    have looked at everything meanwhile). False if the timeout came first."""
    deadline = time.monotonic() + plan.drain_timeout_seconds
    quiet_since: float | None = None
    wanted = {order.workflow_id for order in placed}
    while time.monotonic() < deadline:
        try:
            cases = await list_cases(client)
        except RPCError as err:
            log.info("drain_list_failed", error=str(err))
            await asyncio.sleep(DRAIN_CHECK_SECONDS)
            continue
        busy = await busy_cases(client, cases)
        missing = wanted - cases.keys()
        if busy or missing:
            quiet_since = None
            log.info("draining", busy=len(busy), missing=len(missing), cases=len(cases))
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= plan.settle_seconds:
            return True
        await asyncio.sleep(DRAIN_CHECK_SECONDS)
    return False


async def busy_cases(client: Client, cases: dict[str, Case]) -> list[str]:
    """Cases still working on their own: running, and waiting neither for a person nor
    (orders) for a return or dispute that still runs."""
    candidates = {w: c for w, c in cases.items() if c.running and not c.parked}
    await read_statuses(client, {w: c for w, c in candidates.items() if c.kind == "order"})
    return sorted(w for w, c in candidates.items() if not waiting(c, cases))
