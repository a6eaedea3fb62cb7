"""The handler names other processes call (crossdock/models/order_handlers.py) are the
ones the order workflow declares: a renamed handler fails here, not in production."""

from __future__ import annotations

from temporalio.workflow import _Definition

from crossdock.models import order_handlers
from workflows.order import OrderWorkflow


def test_the_order_workflow_declares_every_named_handler() -> None:
    declared = _Definition.must_from_class(OrderWorkflow)
    assert order_handlers.STATUS in declared.queries
    assert order_handlers.CANCEL in declared.updates
    assert order_handlers.RESERVE_REFUND in declared.updates


def test_a_name_the_workflow_does_not_declare_is_caught() -> None:
    declared = _Definition.must_from_class(OrderWorkflow)
    assert "reserve_refunds" not in declared.updates
