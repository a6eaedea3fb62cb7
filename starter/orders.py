"""Starting order workflows exactly once per channel order."""

from __future__ import annotations

import structlog
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from crossdock.config import Settings
from crossdock.models.order import Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import OrderInput, OrderPolicy
from workflows.order import OrderWorkflow
from workflows.search import CROSSDOCK_STATE, DESTINATION, MARKETPLACE

log = structlog.get_logger(__name__)


def order_policy(settings: Settings) -> OrderPolicy:
    """The order policy from settings: every `OrderPolicy` field takes the setting of the
    same name, so a new policy field only needs its setting."""
    return OrderPolicy(
        **{
            name: getattr(settings, name)
            for name in OrderPolicy.model_fields
            if hasattr(settings, name)
        }
    )


async def start_order(client: Client, order: Order, settings: Settings) -> bool:
    """Start the order's workflow; False when it was already started (ever).

    The workflow id is the channel order id and REJECT_DUPLICATE refuses a second start
    even after the first run closed, so a re-polled or re-posted order never runs twice.
    """
    return await start_order_input(
        client, OrderInput(order=order, policy=order_policy(settings)), settings.task_queue
    )


class OrderStarter:
    """`start_order` bound to a client and settings, for the activities that start orders
    (injected by worker.py, so activities need not import this module)."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    async def __call__(self, order: Order) -> bool:
        return await start_order(self._client, order, self._settings)


async def start_order_input(client: Client, input: OrderInput, task_queue: str) -> bool:
    """`start_order` for a prepared input (a replacement carries its original's policy)."""
    order = input.order
    try:
        await client.start_workflow(
            OrderWorkflow.run,
            input,
            id=order.workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CROSSDOCK_STATE, OrderState.RECEIVED.value),
                    SearchAttributePair(MARKETPLACE, order.channel.value),
                    SearchAttributePair(DESTINATION, order.ship_to.country),
                ]
            ),
        )
    except WorkflowAlreadyStartedError:
        return False
    log.info("order_started", workflow_id=order.workflow_id, channel=order.channel)
    return True
