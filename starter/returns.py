"""Starting returns: one `ReturnWorkflow` per return, `return-{channel}-{rma}`.

Intake (the return-request pollers, `return-intake-{channel}`) and operators (`crossdock
returns open`) start returns here. The id is REJECT_DUPLICATE, so a second
sighting of the same RMA never starts a second return.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from crossdock.config import Settings, get_settings
from crossdock.console.case_scope import destination_of
from crossdock.models.approval import Principal, Role
from crossdock.models.order import Channel, order_workflow_id
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import (
    ReturnInput,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnResult,
    ReturnSource,
    ReturnTimers,
)
from workflows.returns import ReturnWorkflow
from workflows.search import CROSSDOCK_STATE, DESTINATION, MARKETPLACE

ReturnHandle = WorkflowHandle[ReturnWorkflow, ReturnResult]


async def start_return(
    client: Client, settings: Settings, request: ReturnRequest, timers: ReturnTimers
) -> ReturnHandle | None:
    """Start the return's workflow; None when one with its id exists already. It
    carries its order's destination, so a country-scoped account sees it too."""
    destination = await destination_of(client, request.order_id)
    where = [SearchAttributePair(DESTINATION, destination)] if destination else []
    try:
        return await client.start_workflow(
            ReturnWorkflow.run,
            ReturnInput(request=request, warehouse=settings.ship_from, timers=timers),
            id=request.workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            # Visible to operators' filters from the first moment, as orders are.
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CROSSDOCK_STATE, ReturnState.REQUESTED.value),
                    SearchAttributePair(MARKETPLACE, request.channel.value),
                    *where,
                ]
            ),
        )
    except WorkflowAlreadyStartedError:
        return None


class ReturnStarter:
    """`start_return` bound to a client and settings, for the activities that start
    returns (injected by worker.py, so activities need not import this module)."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    async def __call__(self, request: ReturnRequest) -> str | None:
        settings = self._settings
        handle = await start_return(self._client, settings, request, settings.return_timers)
        return handle.id if handle is not None else None


RETURN_POLLED = (Channel.EBAY, Channel.AMAZON)
FIRST_LOOKBACK = timedelta(days=1)


async def ensure_return_pollers(client: Client, settings: Settings) -> None:
    """Start the marketplace return-request pollers unless they run already (then leave
    them and their cursors)."""
    from workflows.return_intake import ReturnPollInput, ReturnRequestPollWorkflow

    for channel in RETURN_POLLED:
        await client.start_workflow(
            ReturnRequestPollWorkflow.run,
            ReturnPollInput(
                channel=channel,
                created_after=datetime.now(UTC) - FIRST_LOOKBACK,
                poll_interval_seconds=settings.poll_interval_seconds,
            ),
            id=f"return-intake-{channel.value}",
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )


def parse_lines(specs: list[str]) -> list[ReturnLine]:
    """ "SKU:QTY" (or "SKU" for one) per returned line."""
    lines = []
    for spec in specs:
        sku, _, quantity = spec.partition(":")
        try:
            lines.append(ReturnLine(sku=sku, quantity=int(quantity or "1")))
        except ValueError as err:
            raise typer.BadParameter(
                f"line {spec!r} must be SKU or SKU:QUANTITY, e.g. MUG-STONEWARE:2 ({err})"
            ) from None
    return lines


app = typer.Typer(help="Returns: open one for an order, as an operator.")


@app.command("open")
def open_return(
    channel: Annotated[Channel, typer.Argument(help="Where the order was sold.")],
    channel_order_id: Annotated[str, typer.Argument(help="The channel's order id.")],
    rma: Annotated[str, typer.Option(help="The return's id (RMA), unique per channel.")],
    reason: Annotated[ReturnReason, typer.Option(help="Why it comes back.")],
    line: Annotated[
        list[str], typer.Option(help="SKU:QUANTITY returned; repeat for several lines.")
    ],
    by: Annotated[str, typer.Option(help="Your operator account id, e.g. ops-7.")],
    role: Annotated[Role, typer.Option(help="Your role.")] = Role.OPERATOR,
    comment: Annotated[str, typer.Option(help="What the buyer said.")] = "",
) -> None:
    """Open a return for an order (the operator who opens it may not approve its refund)."""
    from crossdock.temporal import connect

    settings = get_settings()
    request = ReturnRequest(
        channel=channel,
        rma=rma,
        order_id=order_workflow_id(channel, channel_order_id),
        lines=parse_lines(line),
        reason=reason,
        source=ReturnSource.OPERATOR,
        requested_at=datetime.now(UTC),
        comment=comment,
        requested_by=Principal(id=by, role=role),
    )

    async def open_it() -> ReturnHandle | None:
        client = await connect(settings)
        return await start_return(client, settings, request, settings.return_timers)

    handle = asyncio.run(open_it())
    console = Console()
    if handle is None:
        console.print(f"[yellow]{request.workflow_id} exists already[/]: nothing started")
        raise typer.Exit(1)
    console.print(f"[green]started[/] {handle.id} for {request.order_id}")
