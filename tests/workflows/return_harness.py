"""Running ReturnWorkflow against a real OrderWorkflow (stand-in partners) on the
time-skipping server: the order's ledger, links and queries are the real ones."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.errors import PartnerRefused
from activities.registry import activity_methods
from activities.returns import BY_HAND, ReturnActivities, returned_items
from crossdock.models.approval import Principal, Role
from crossdock.models.order import Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import ShippingLabel, TrackingUpdate
from crossdock.models.refusals import Refusal
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import (
    CheckRefundInput,
    IssuedRefund,
    IssueRefundInput,
    RefundState,
    ReplacementStarted,
    ReturnInput,
    ReturnLabelInput,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnResult,
    ReturnSource,
    ReturnTimers,
    StartReplacementInput,
)
from crossdock.models.suppliers import SupplierRma, SupplierRmaInput, SupplierRmaStatus
from crossdock.money import Money
from crossdock.partners.carrier import CarrierClient
from crossdock.partners.ebay_returns import EbayRefundsClient
from crossdock.partners.payments import PaymentsClient
from crossdock.workflow_sandbox import RUNNER
from starter.orders import start_order_input
from tests.conftest import skip_time
from tests.factories import NOW, WAREHOUSE
from tests.workflows.order_harness import OrderHandle, deliver, start, wait_for_state
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow

ReturnHandle = WorkflowHandle[ReturnWorkflow, ReturnResult]
OPERATOR = Principal(id="ops-7", role=Role.OPERATOR)
MAKER = Principal(id="ops-3", role=Role.OPERATOR)
FINANCE = Principal(id="fin-2", role=Role.FINANCE)
HOUR = 3600.0
DAY = 24 * HOUR
TIMERS = ReturnTimers(
    decision_remind_seconds=HOUR,
    decision_escalate_seconds=4 * HOUR,
    decision_expire_seconds=DAY,
    ship_back_seconds=7 * DAY,
    refund_check_seconds=HOUR,
    refund_checks=3,
    refund_attempts=2,
)
_rma = itertools.count(1)


@dataclass
class ReturnPartners:
    """Stand-ins for the channel refund and the return label; read_order and
    reserve_refund are the real activities, talking to the real order workflow."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    # What issue_refund answers, in turn (the last one repeats); "by_hand" refuses.
    refund_states: list[str] = field(default_factory=lambda: ["succeeded"])
    # What check_refund answers for a pending refund.
    settle_as: RefundState = RefundState.SUCCEEDED
    # Workflows the test started, terminated when it ends: an order left waiting out its
    # return window must not hold up the module's shared time-skipping clock.
    started: list[WorkflowHandle[Any, Any]] = field(default_factory=list)
    # What the dropship supplier answers a supplier RMA.
    supplier_status: SupplierRmaStatus = SupplierRmaStatus.AUTHORIZED
    # When set, the supplier rejects the request itself (a non-retryable error).
    supplier_rejects: str = ""
    # Partner refusals, per activity name, raised in turn until used up (e.g. Amazon
    # forgetting a payment adjustment feed: check_refund answers 404).
    refusals: dict[str, list[Refusal]] = field(default_factory=dict)

    def _refuse(self, name: str) -> None:
        pending = self.refusals.get(name)
        if pending:
            raise PartnerRefused(pending.pop(0))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    @activity.defn(name="issue_refund")
    async def issue_refund(self, input: IssueRefundInput) -> IssuedRefund:
        self.calls.append(("issue_refund", input))
        self._refuse("issue_refund")
        n = sum(1 for name in self.names() if name == "issue_refund")
        state = self.refund_states[min(n, len(self.refund_states)) - 1]
        if state == "by_hand":
            raise ApplicationError("refund by hand", type=BY_HAND, non_retryable=True)
        return IssuedRefund(refund_id=f"re_{n}", state=RefundState(state))

    @activity.defn(name="check_refund")
    async def check_refund(self, input: CheckRefundInput) -> IssuedRefund:
        self.calls.append(("check_refund", input))
        self._refuse("check_refund")
        return IssuedRefund(refund_id=input.refund_id, state=self.settle_as)

    @activity.defn(name="start_replacement")
    async def start_replacement(self, input: StartReplacementInput) -> ReplacementStarted:
        self.calls.append(("start_replacement", input))
        self._refuse("start_replacement")
        raise AssertionError("registered only to refuse")

    @activity.defn(name="buy_return_label")
    async def buy_return_label(self, input: ReturnLabelInput) -> ShippingLabel:
        self.calls.append(("buy_return_label", input))
        self._refuse("buy_return_label")
        assert returned_items(input.order, input.lines)
        return ShippingLabel(
            shipment_id="shp_ret_1",
            tracking_code="EZRET0001",
            tracker_id="trk_ret_1",
            carrier="USPS",
            service="First",
            cost=input.order.shipping,
            label_url="https://labels.example/ret_1.pdf",
        )

    @activity.defn(name="request_supplier_rma")
    async def request_supplier_rma(self, input: SupplierRmaInput) -> SupplierRma:
        self.calls.append(("request_supplier_rma", input))
        if self.supplier_rejects:
            raise ApplicationError(self.supplier_rejects, type="not_found", non_retryable=True)
        refused = self.supplier_status is SupplierRmaStatus.REFUSED
        return SupplierRma(
            supplier_id=input.supplier_id,
            rma_id=f"rma_{input.supplier_id}",
            status=self.supplier_status,
            credit=Money(amount=0 if refused else 1750, currency="GBP"),
            refusal_reason="outside the 60-day RMA window" if refused else "",
        )


@contextlib.asynccontextmanager
async def worker(
    env: WorkflowEnvironment, task_queue: str, partners: Partners, returns: ReturnPartners
) -> AsyncIterator[Worker]:
    async with _worker(env, task_queue, partners, returns) as running:
        try:
            yield running
        finally:
            for handle in returns.started:
                with contextlib.suppress(RPCError):
                    await handle.terminate("test over")


def _worker(
    env: WorkflowEnvironment, task_queue: str, partners: Partners, returns: ReturnPartners
) -> Worker:
    return Worker(
        env.client,
        task_queue=task_queue,
        workflows=[OrderWorkflow, ReturnWorkflow],
        activities=return_activities(env, partners, returns),
        workflow_runner=RUNNER,
    )


def return_activities(
    env: WorkflowEnvironment, partners: Partners, returns: ReturnPartners
) -> list[Any]:
    """The order's stand-ins, the real return activities that read and reserve on the
    order, and stand-ins for the channel's refunds and labels."""
    unused = "http://127.0.0.1:9"
    real = ReturnActivities(
        env.client,
        PaymentsClient(unused, "sk_unused"),
        CarrierClient(unused, "unused"),
        EbayRefundsClient(unused, "unused"),
        partial(start_order_input, env.client),
    )
    wanted = {"read_order", "reserve_refund", "start_replacement"}
    if returns.refusals.get("start_replacement"):
        wanted.remove("start_replacement")  # the stand-in refuses it instead
    activities: list[Any] = [m for m in activity_methods(real) if m.__name__ in wanted]
    if "start_replacement" not in wanted:
        activities.append(returns.start_replacement)
    return [
        *partners.activities(),
        *activities,
        returns.issue_refund,
        returns.check_refund,
        returns.buy_return_label,
        returns.request_supplier_rma,
    ]


async def delivered_order(
    env: WorkflowEnvironment, task_queue: str, o: Order, returns: ReturnPartners
) -> OrderHandle:
    handle = await start(env, task_queue, o)
    returns.started.append(handle)
    # Marketplaces were paid at sale: only the storefront captures at shipment.
    shipped = (
        OrderState.PAYMENT_CAPTURED
        if o.channel is Channel.STOREFRONT
        else (OrderState.SHIPMENT_CONFIRMED)
    )
    await wait_for_state(handle, shipped)
    await deliver(handle)
    await wait_for_state(handle, OrderState.DELIVERED)
    return handle


def request(
    o: Order,
    lines: list[tuple[str, int]] | None = None,
    reason: ReturnReason = ReturnReason.CHANGED_MIND,
    source: ReturnSource = ReturnSource.MARKETPLACE,
    by: Principal | None = None,
) -> ReturnRequest:
    picked = lines or [(item.sku, item.quantity) for item in o.items]
    return ReturnRequest(
        channel=o.channel,
        rma=f"RMA{next(_rma):05d}",
        order_id=o.workflow_id,
        lines=[ReturnLine(sku=sku, quantity=quantity) for sku, quantity in picked],
        reason=reason,
        source=source,
        requested_at=NOW,
        requested_by=by,
    )


async def start_return(
    env: WorkflowEnvironment,
    task_queue: str,
    r: ReturnRequest,
    returns: ReturnPartners,
    timers: ReturnTimers = TIMERS,
) -> ReturnHandle:
    handle = await env.client.start_workflow(
        ReturnWorkflow.run,
        ReturnInput(request=r, warehouse=WAREHOUSE, timers=timers),
        id=r.workflow_id,
        task_queue=task_queue,
    )
    returns.started.append(handle)
    return handle


async def wait_for(handle: ReturnHandle, state: ReturnState) -> None:
    # Up to a minute of real time: activities run in real time and the machine is shared.
    for n in range(1200):
        status = await handle.query(ReturnWorkflow.status)
        if status.state == state:
            return
        if n % 20 == 19:
            described = await handle.describe()
            ended = described.status
            if ended is not None and ended is not WorkflowExecutionStatus.RUNNING:
                raise AssertionError(f"return ended {ended.name} at {status.state}")
        await asyncio.sleep(0.05)
    raise AssertionError(f"return never reached {state}; it is {status.state}")


def scan(n: int, status: str) -> TrackingUpdate:
    return TrackingUpdate(
        event_id=f"ret_evt_{n}",
        tracking_code="EZRET0001",
        status=status,
        occurred_at=NOW,
        description=status,
    )


async def send_back(handle: ReturnHandle) -> None:
    """The buyer ships the parcel and it reaches the warehouse."""
    await wait_for(handle, ReturnState.LABEL_ISSUED)
    for n, status in enumerate(["pre_transit", "in_transit", "delivered"]):
        await handle.signal(ReturnWorkflow.tracking_update, scan(n, status))
    await wait_for(handle, ReturnState.RECEIVED)


async def skip(env: WorkflowEnvironment, seconds: float) -> None:
    await skip_time(env, timedelta(seconds=seconds))
