"""Order steps with the warehouse: reserve the order's stock once its payment is secured,
ship what is in stock (a partial shipment when some lines wait for stock), ship the rest
when it arrives, or cancel those lines at the backorder deadline and refund them.

A line ships whole: a line the warehouse cannot cover entirely waits. Nothing in stock
at all: the order waits before anything is booked further, and can still be cancelled.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.warehouse import WarehouseActivities
    from crossdock.models.channel_cancel import SellerCancelReason
    from crossdock.models.order_states import OrderState
    from crossdock.models.stock import (
        CheckReservationInput,
        FulfilStockInput,
        ReleaseStockInput,
        ReserveStockInput,
        StockReservation,
        line_ref,
        stock_lines,
    )
    from crossdock.money import Money, total
    from workflows import order_questions
    from workflows.options import call_partner, condition_within
    from workflows.order_context import OrderContext, OrderRejected

STOCK = "stock"
# After shipment the warehouse refusing a reservation check (it forgot the reservation)
# is a question to a person; it used to fail the workflow task on every retry.
STOCK_REFUSAL_ASKS = "stock-refusal-asks"
CHECK_CHOICES = (
    "Retry; or record the waiting lines as shipped by hand, saying how; reject: the "
    "waiting lines are cancelled (stock released, the channel told, the buyer refunded)."
)


def waiting(reservation: StockReservation | None) -> list[int]:
    """Indexes of the order lines not wholly reserved (and not shipped or released)."""
    if reservation is None:
        return []
    return [i for i, line in enumerate(reservation.lines) if line.backordered > 0]


def ready(reservation: StockReservation, shipped: set[int]) -> list[int]:
    """Indexes of wholly reserved lines not shipped yet."""
    return [
        i
        for i, line in enumerate(reservation.lines)
        if line.reserved > 0 and not line.backordered and i not in shipped
    ]


async def reserve_stock(ctx: OrderContext) -> None:
    """Reserve every line (released again if the order is cancelled). With nothing in
    stock, wait for stock before going on, until the backorder deadline."""
    reservation = await ctx.call(
        WarehouseActivities.reserve_stock,
        ReserveStockInput(
            reference=ctx.workflow_id,
            lines=stock_lines(ctx.order),
            idempotency_key=ctx.key("reserve-stock"),
        ),
    )
    ctx.status.stock = reservation
    ctx.status.stock_deadline = workflow.now() + timedelta(
        seconds=ctx.policy.backorder_wait_seconds
    )
    ctx.saga.add(
        "release_stock",
        lambda: call_partner(
            WarehouseActivities.release_stock,
            ReleaseStockInput(
                reservation_id=reservation.reservation_id, idempotency_key=ctx.key("release-stock")
            ),
        ),
    )
    short = waiting(reservation)
    ctx.note("stock_reserved", _describe(reservation, short))
    if len(short) == len(ctx.order.items):
        ctx.move(OrderState.AWAITING_STOCK, "nothing in stock yet")
        reservation = await wait_for_stock(ctx, any_line=True)
        if not ready(reservation, set()):
            raise OrderRejected(
                f"out of stock: {_describe(reservation, waiting(reservation))}",
                SellerCancelReason.OUT_OF_STOCK,
            )


async def wait_for_stock(ctx: OrderContext, *, any_line: bool) -> StockReservation:
    """Re-check the reservation until some (`any_line`) or every waiting line is wholly
    reserved, or the backorder deadline passes; a cancellation interrupts the wait."""
    status, policy = ctx.status, ctx.policy
    assert status.stock is not None and status.stock_deadline is not None
    while not _enough(status.stock, set(status.shipped_lines), any_line=any_line):
        remaining = (status.stock_deadline - workflow.now()).total_seconds()
        if remaining <= 0:
            break
        await condition_within(
            lambda: ctx.cancel_request is not None, min(policy.stock_poll_seconds, remaining)
        )
        ctx.check_cancelled()
        checked = await _check(ctx, status.stock)
        if checked is None:
            break  # a person answered the warehouse's refusal: stop waiting
        status.stock = checked
    return status.stock


async def _check(ctx: OrderContext, stock: StockReservation) -> StockReservation | None:
    """The reservation now; None when the warehouse refused and a person answered
    instead (lines shipped by hand are then counted as shipped)."""
    arg = CheckReservationInput(reservation_id=stock.reservation_id)
    # Before shipment a refusal cancels the order like any other (nothing has left).
    if not ctx.shipping_committed or not workflow.patched(STOCK_REFUSAL_ASKS):
        return await ctx.call(WarehouseActivities.check_reservation, arg)
    settled = await order_questions.until_settled(
        ctx,
        WarehouseActivities.check_reservation,
        lambda _key: arg,  # a read: no idempotency key
        step="check-stock",
        what=f"checking stock reservation {stock.reservation_id}",
        options=(order_questions.RETRY, order_questions.DONE_BY_HAND),
        choices=CHECK_CHOICES,
    )
    if settled.result is not None:
        return settled.result
    answer = settled.answer
    assert answer is not None
    if answer.option == order_questions.DONE_BY_HAND:
        lines = [i for i in waiting(stock) if i not in ctx.status.shipped_lines]
        ctx.status.shipped_lines.extend(lines)
        ctx.note("shipped_by_hand", f"{', '.join(line_ref(i) for i in lines)}: {answer.describe()}")
    return None


def _enough(reservation: StockReservation, shipped: set[int], *, any_line: bool) -> bool:
    if not waiting(reservation):
        return True
    return any_line and bool(ready(reservation, shipped))


async def fulfil(ctx: OrderContext, lines: list[int], package: int) -> None:
    """Tell the warehouse these lines left (after the channel was told they shipped)."""
    stock = ctx.status.stock
    if stock is None or not lines:
        return
    ctx.status.shipped_lines.extend(lines)
    result = await ctx.try_call(
        WarehouseActivities.fulfil_stock,
        FulfilStockInput(
            reservation_id=stock.reservation_id,
            line_refs=[line_ref(i) for i in lines],
            package=package,
            idempotency_key=ctx.key(f"package-{package}/fulfil"),
        ),
        f"booking package {package} out of the warehouse",
    )
    if result is not None:
        ctx.status.stock = result


async def release_lines(ctx: OrderContext, lines: list[int]) -> Money:
    """Give back the stock of lines that will not ship; returns their value."""
    stock = ctx.status.stock
    assert stock is not None
    result = await ctx.try_call(
        WarehouseActivities.release_stock,
        ReleaseStockInput(
            reservation_id=stock.reservation_id,
            line_refs=[line_ref(i) for i in lines],
            idempotency_key=ctx.key("release-backorder"),
        ),
        "releasing backordered stock",
    )
    if result is not None:
        ctx.status.stock = result
    items = ctx.order.items
    return total([items[i].line_total for i in lines], ctx.order.currency)


def _describe(reservation: StockReservation, short: list[int]) -> str:
    if not short:
        return "every line in stock"
    lines = [reservation.lines[i] for i in short]
    return "; ".join(
        f"{line.line_ref} {line.sku}: {line.backordered} of {line.quantity} backordered"
        for line in lines
    )
