"""A demo operator acting in `make run` as a person would: now and then a buyer asks to
cancel an order shortly after placing it, and the operator relays it to the workflow.
Some arrive in time (the order is cancelled and compensated); others are refused because
the order has already shipped: both show in the Temporal UI."""

from __future__ import annotations

import asyncio
import random

import structlog
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from crossdock.models.approval import Principal, Role
from crossdock.models.order import Order
from crossdock.models.order_steps import CancelRequest
from workflows.order import OrderWorkflow

log = structlog.get_logger(__name__)

DEMO_OPERATOR = Principal(id="demo-operator", role=Role.OPERATOR)


class DemoOperator:
    def __init__(self, client: Client, seed: int, cancel_rate: float = 0.06) -> None:
        self._client = client
        self._random = random.Random(seed)
        self._cancel_rate = cancel_rate
        self._tasks: set[asyncio.Task[None]] = set()

    def consider(self, order: Order) -> None:
        """Maybe have this order's buyer ask to cancel a few seconds from now."""
        if self._random.random() >= self._cancel_rate:
            return
        task = asyncio.create_task(self._cancel(order, delay=self._random.uniform(0.0, 1.2)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cancel(self, order: Order, delay: float) -> None:
        handle = self._client.get_workflow_handle_for(OrderWorkflow.run, order.workflow_id)
        # Marketplace orders reach us at the next poll: wait until the workflow exists.
        for _ in range(40):
            try:
                await handle.describe()
                break
            except RPCError:
                await asyncio.sleep(0.25)
        await asyncio.sleep(delay)
        request = CancelRequest(reason="buyer asked to cancel", by=DEMO_OPERATOR)
        try:
            receipt = await handle.execute_update(OrderWorkflow.cancel, request)
        except WorkflowUpdateFailedError as refused:
            log.info("demo_cancel_refused", workflow_id=order.workflow_id, why=str(refused.cause))
        except Exception as err:  # the order may not be started yet, or is closed
            log.info("demo_cancel_skipped", workflow_id=order.workflow_id, error=str(err))
        else:
            log.info(
                "demo_cancel_accepted",
                workflow_id=order.workflow_id,
                state=receipt.accepted_in_state,
            )
