"""A whole stack for the console's tests (dev server, sandbox, intake + console, worker),
its own so orders and returns made here never meet the integration tests' ledgers, with
principal verification on as under `make run`; operator accounts with passwords and
tokens; helpers that bring orders and returns to the point where a person must decide."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from crossdock.config import Settings
from crossdock.demo import NEAR_MISS_BUYERS, DemoOrders, place
from crossdock.identity import Accounts
from crossdock.models.approval import Principal, Role
from crossdock.models.order import Buyer, Channel, LineItem, Order
from crossdock.models.order_states import OrderState
from crossdock.models.returns import (
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnSource,
    ReturnTimers,
)
from crossdock.store import Database, upgrade
from starter.returns import start_return
from tests.integration.conftest import Stack, codec_keys, dev_env, ports, servers, stack
from tests.servers import sandbox_urls
from workflows.order import OrderWorkflow

__all__ = ["codec_keys", "dev_env", "ports", "servers", "stack"]

PASSWORD = "correct horse battery"
# Operators of the tests: two operators (one opens returns: maker), finance, a viewer.
ACCOUNTS = {"ops-1": Role.OPERATOR, "ops-2": Role.OPERATOR, "fin-1": Role.FINANCE}
ACCOUNTS |= {"view-1": Role.VIEWER}
# Eight leather wallets: 520 EUR of goods, over the 500 EUR finance threshold of returns.
WALLETS = 8
# Where an approved order may be by the time a test looks again.
MOVED_ON = frozenset(OrderState) - {OrderState.RECEIVED, OrderState.VALIDATED}
MOVED_ON -= {OrderState.IN_REVIEW, OrderState.CANCELLED}


@dataclass
class Console:
    url: str
    stack: Stack
    tokens: dict[str, str]

    def api(self, account: str) -> httpx.AsyncClient:
        """An API client authenticated as `account`."""
        headers = {"Authorization": f"Bearer {self.tokens[account]}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="session")
def settings(
    dev_env: WorkflowEnvironment,
    ports: dict[str, int],
    codec_keys: SecretStr,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    sandbox = f"http://127.0.0.1:{ports['sandbox']}"
    return Settings(
        state_dir=tmp_path_factory.mktemp("console-state"),
        codec_keys=codec_keys,
        temporal_address=dev_env.client.service_client.config.target_host,
        task_queue="console",
        sandbox_port=ports["sandbox"],
        console_port=ports["intake"],
        **sandbox_urls(sandbox),
        # Delivered orders stay open long enough for the tests' returns.
        return_window_seconds=600.0,
        poll_interval_seconds=0.5,
        tracking_step_seconds=0.3,
        customs_poll_seconds=0.5,
        stock_poll_seconds=0.5,
        verify_principals=True,
        # Wrong-password delays of milliseconds, so the lockout test takes seconds.
        login_delay_seconds=0.01,
        # Stuck cases are found within seconds (tests/browser/test_console_stuck.py).
        stuck_scan_seconds=2.0,
        _env_file=None,
    )


@pytest.fixture(scope="session")
async def console(stack: Stack) -> Console:
    """The console of the stack, with the test accounts (password and API token each)."""
    db = Database.from_settings(stack.settings)
    upgrade(db)
    accounts = Accounts(db)
    tokens = {}
    for account_id, role in ACCOUNTS.items():
        accounts.add(account_id, role, PASSWORD)
        tokens[account_id] = accounts.issue_token(account_id, "tests").token
    db.dispose()
    return Console(url=stack.settings.intake_url, stack=stack, tokens=tokens)


_demo = DemoOrders(seed=606, decline_rate=0.0, review_rate=0.0)


def eur_order(buyer: str = "") -> Order:
    """A storefront order to a euro country; `buyer` names who screening sees."""
    while True:
        order = _demo.next(channel=Channel.STOREFRONT)
        if order.currency == "EUR":
            break
    if not buyer:
        return order
    return order.model_copy(
        update={
            "buyer": Buyer(name=buyer, email=order.buyer.email),
            "ship_to": order.ship_to.model_copy(update={"name": buyer}),
        }
    )


async def order_in_review(console: Console) -> str:
    """Place an order whose buyer resembles a denied party: it waits for a review."""
    order = eur_order(NEAR_MISS_BUYERS[0])
    await place(console.stack.sandbox, order)
    await wait_for_state(console, order.workflow_id, {OrderState.IN_REVIEW})
    return order.workflow_id


async def wait_for_state(
    console: Console, workflow_id: str, states: set[str], seconds: float = 60
) -> str:
    """Poll the order's status until it is in one of `states`; the state reached."""
    client = console.stack.client
    deadline = asyncio.get_running_loop().time() + seconds
    state = ""
    while asyncio.get_running_loop().time() < deadline:
        try:
            status = await client.get_workflow_handle(workflow_id).query(OrderWorkflow.status)
            state = status.state
        except Exception:  # not started yet: intake starts it from the checkout
            state = ""
        if state in states:
            return state
        await asyncio.sleep(0.2)
    raise AssertionError(f"{workflow_id} is {state or 'not started'}, never {sorted(states)}")


async def large_return(console: Console, requested_by: Principal) -> str:
    """A delivered 520 EUR order and a damaged-goods return opened by an operator: its
    refund needs finance, and the operator who opened it may not decide it."""
    base = eur_order()
    wallet = next(p for p in _demo.catalog.products() if p.sku == "WALLET-LEATHER")
    line = LineItem(
        sku=wallet.sku,
        title=wallet.title,
        quantity=WALLETS,
        unit_price=wallet.price("EUR"),
        hs_code=wallet.hs_code,
        origin_country=wallet.origin_country,
        weight_grams=wallet.weight_grams,
    )
    order = await delivered_order(console, base.model_copy(update={"items": [line]}))
    request = ReturnRequest(
        channel=order.channel,
        rma=f"RMA-{order.channel_order_id}",
        order_id=order.workflow_id,
        lines=[ReturnLine(sku=line.sku, quantity=WALLETS)],
        reason=ReturnReason.DAMAGED,
        source=ReturnSource.OPERATOR,
        requested_at=datetime.now(UTC),
        requested_by=requested_by,
    )
    handle = await start_return(
        console.stack.client, console.stack.settings, request, ReturnTimers()
    )
    assert handle is not None
    await wait_awaiting(console, request.workflow_id)
    return request.workflow_id


async def wait_awaiting(console: Console, workflow_id: str, seconds: float = 30) -> None:
    """Until the workflow shows in the console's inbox."""
    async with console.api("view-1") as api:
        for _ in range(int(seconds / 0.2)):
            inbox = (await api.get("/api/inbox")).json()
            if any(item["workflow_id"] == workflow_id for item in inbox):
                return
            await asyncio.sleep(0.2)
    raise AssertionError(f"{workflow_id} never reached the inbox")


async def delivered_order(console: Console, order: Order | None = None) -> Order:
    """Place `order` (a euro storefront order by default) and wait for its delivery."""
    order = order or eur_order()
    await place(console.stack.sandbox, order)
    await wait_for_state(console, order.workflow_id, {OrderState.DELIVERED, OrderState.COMPLETED})
    return order


async def case_state(console: Console, workflow_id: str, state: str, seconds: float = 60) -> None:
    """Until the console shows the case in `state`."""
    async with console.api("view-1") as api:
        for _ in range(int(seconds / 0.2)):
            case = (await api.get(f"/api/cases/{workflow_id}")).json()
            if case["status"].get("state") == state:
                return
            await asyncio.sleep(0.2)
    raise AssertionError(f"{workflow_id} is {case['status'].get('state')}, never {state}")


async def open_dispute(console: Console, order: Order, reason: str) -> str:
    """The sandbox opens a Stripe dispute on `order`; its webhook starts the workflow."""
    response = await console.stack.sandbox.post(
        "/stripe/_sandbox/disputes", json={"order": order.workflow_id, "reason": reason}
    )
    response.raise_for_status()
    workflow_id = f"dispute-stripe-{response.json()['id']}"
    await wait_awaiting(console, workflow_id)
    return workflow_id
