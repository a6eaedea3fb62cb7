"""Who may change an order, and when: the checks behind OrderWorkflow's update
validators (pure; a refusal leaves no trace in history, so its reason is the message)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import Principal, Role
    from crossdock.models.order_states import BEFORE_SHIPMENT
    from crossdock.models.order_steps import CancelRequest, HoldRequest
    from workflows.order_context import OrderContext

CANCEL_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})


def check_role(by: Principal, action: str) -> None:
    """Refuse anyone but an operator or an admin."""
    if by.role not in CANCEL_ROLES:
        allowed = ", ".join(sorted(CANCEL_ROLES))
        raise ValueError(f"role {by.role} may not {action} orders (allowed: {allowed})")


def check_money_question(ctx: OrderContext, action: str) -> None:
    """Refuse while a question about the order's money waits for an answer."""
    question = ctx.status.question
    if question is not None and question.money:
        raise ValueError(
            f"order may not be {action} while a question about its money is open "
            f"({question.what} refused: {question.refusal.message}): answer "
            f"{question.approval_key!r} in the inbox first"
        )


def check_cancel(ctx: OrderContext, request: CancelRequest) -> None:
    """Refuse a cancellation the order can no longer take."""
    check_role(request.by, "cancel")
    if ctx.cancel_request is not None:
        raise ValueError(f"already being cancelled by {ctx.cancel_request.by.id}")
    check_money_question(ctx, "cancelled")
    if ctx.status.state not in BEFORE_SHIPMENT or ctx.shipping_committed:
        raise ValueError(
            f"order is {ctx.status.state} and already shipped or shipping: request a return instead"
        )


def check_hold(ctx: OrderContext, request: HoldRequest) -> None:
    """Refuse a hold on an order already held, cancelling or shipped."""
    check_role(request.by, "hold")
    if ctx.status.hold is not None:
        raise ValueError(f"already held by {ctx.status.hold.by.id}: {ctx.status.hold.reason}")
    if ctx.cancel_request is not None:
        raise ValueError(f"already being cancelled by {ctx.cancel_request.by.id}")
    check_money_question(ctx, "held")
    if ctx.status.state not in BEFORE_SHIPMENT or ctx.shipping_committed:
        raise ValueError(f"order is {ctx.status.state}: a shipped order cannot be held")
