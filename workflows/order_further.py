"""A further parcel after the first shipment (a reshipment, backordered lines): picked
from the warehouse and confirmed to the channel like the first, and a refusal of either
takes the refusal path, never the next state.

- pick: the first parcel's units were booked out of the order's reservation, so a
  replacement is a new reservation for its goods, booked out at once; a line the
  warehouse cannot cover is asked about (picked by hand, or go on) and released.
- confirm: a channel that answers "already done" or "over the limit" for a replacement
  counts the units shipped already (the original confirmation stands): settled by the
  workflow itself, noted, and the order is not called confirmed. Any other refusal is a
  question: retry, confirmed by hand, or go on unconfirmed.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.marketplace import MarketplaceActivities
    from activities.warehouse import WarehouseActivities
    from crossdock.models.order import Order
    from crossdock.models.order_steps import ConfirmShipmentInput
    from crossdock.models.refusals import PartnerQuestion, Refusal, RefusalKind
    from crossdock.models.stock import (
        FulfilStockInput,
        ReleaseStockInput,
        ReserveStockInput,
        StockLine,
        StockReservation,
    )
    from workflows import order_questions
    from workflows.order_context import OrderContext
    from workflows.order_questions import CLOSE, DONE_BY_HAND, GO_ON, RETRY

# Workflow changes, each behind its patch so recorded histories replay.
FURTHER_PICK = "further-parcel-pick"
FURTHER_CONFIRM = "further-parcel-confirm"
ALREADY_COUNTED = frozenset({RefusalKind.ALREADY_DONE, RefusalKind.OVER_LIMIT})
PICK_CHOICES = "Retry; or record it as picked by hand, saying how; reject: go on unpicked."
CONFIRM_CHOICES = (
    "Retry; or record it as confirmed by hand on the channel, saying how; or go on "
    "unconfirmed (the buyer has the tracking number from us)."
)


def _step(number: int, name: str) -> str:
    return f"package-{number}/{name}"


async def pick(ctx: OrderContext, goods: Order, number: int) -> None:
    """Book package `number`'s goods out of the warehouse (orders that reserve stock)."""
    if ctx.status.stock is None:
        return
    lines = [
        StockLine(line_ref=f"P{number}-{i + 1}", sku=item.sku, quantity=item.quantity)
        for i, item in enumerate(goods.items)
    ]
    settled = await order_questions.until_settled(
        ctx,
        WarehouseActivities.reserve_stock,
        lambda key: ReserveStockInput(
            reference=f"{ctx.workflow_id}/package-{number}", lines=lines, idempotency_key=key
        ),
        step=_step(number, "reserve-stock"),
        what=f"reserving stock for package {number}",
        options=(RETRY, DONE_BY_HAND),
        choices=PICK_CHOICES,
    )
    if settled.result is None:
        assert settled.answer is not None
        ctx.note("package_not_picked", f"package {number}: {settled.answer.describe()}")
        return
    await _book_out(ctx, settled.result, number)


async def _book_out(ctx: OrderContext, reservation: StockReservation, number: int) -> None:
    whole = [line.line_ref for line in reservation.lines if line.reserved and not line.backordered]
    short = [line for line in reservation.lines if line.backordered]
    if whole:
        await ctx.try_call(
            WarehouseActivities.fulfil_stock,
            FulfilStockInput(
                reservation_id=reservation.reservation_id,
                line_refs=whole,
                package=number,
                idempotency_key=ctx.key(_step(number, "fulfil")),
            ),
            f"booking package {number} out of the warehouse",
        )
        ctx.note("package_picked", f"package {number}: {', '.join(whole)}")
    if not short:
        return
    # Nothing would come of a backorder on a parcel already labelled: give it back.
    await ctx.try_call(
        WarehouseActivities.release_stock,
        ReleaseStockInput(
            reservation_id=reservation.reservation_id,
            line_refs=[line.line_ref for line in short],
            idempotency_key=ctx.key(_step(number, "release-short")),
        ),
        f"releasing the short lines of package {number}",
    )
    missing = "; ".join(f"{line.sku}: {line.backordered} short" for line in short)
    question = PartnerQuestion(
        step=_step(number, "pick"),
        what=f"picking package {number}",
        refusal=Refusal(
            kind=RefusalKind.OVER_LIMIT, message=f"no stock for {missing}", partner="warehouse"
        ),
    )
    subject = order_questions.subject_for(
        question, "Record it as picked by hand, saying how, or go on without those goods."
    )
    answer = await order_questions.ask(ctx, question, subject, (DONE_BY_HAND, GO_ON))
    ctx.note("package_pick_answered", f"package {number}: {answer.describe()}")


async def confirm(ctx: OrderContext, confirmation: ConfirmShipmentInput) -> str | None:
    """Tell the channel about a further package; what it confirmed, or None (noted)."""
    number = confirmation.package
    settled = await order_questions.until_settled(
        ctx,
        MarketplaceActivities.confirm_shipment,
        lambda key: confirmation.model_copy(update={"idempotency_key": key}),
        step=_confirm_step(confirmation),
        what=f"confirming package {number} to {ctx.order.channel}",
        options=(RETRY, DONE_BY_HAND, GO_ON),
        choices=CONFIRM_CHOICES,
        can_close=False,
        settles_itself=ALREADY_COUNTED,
    )
    if settled.result is not None:
        return settled.result.confirmation_id
    answer = settled.answer
    assert answer is not None
    if answer.option == DONE_BY_HAND:
        return f"confirmed by hand: {answer.describe()}"
    why = answer.reason if answer.option == CLOSE else answer.describe()
    ctx.note("not_confirmed", f"package {number} not confirmed to {ctx.order.channel}: {why}")
    return None


def _confirm_step(confirmation: ConfirmShipmentInput) -> str:
    """The step of the key the caller chose ("<workflow id>/<step>" → "<step>")."""
    workflow_id = workflow.info().workflow_id
    return confirmation.idempotency_key.removeprefix(f"{workflow_id}/")
