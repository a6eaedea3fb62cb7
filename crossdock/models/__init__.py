"""Pydantic contracts shared by workflows, activities, intake and the console."""

from crossdock.models.order import (
    Address,
    Buyer,
    Channel,
    Incoterm,
    LineItem,
    Order,
    order_workflow_id,
)

__all__ = [
    "Address",
    "Buyer",
    "Channel",
    "Incoterm",
    "LineItem",
    "Order",
    "order_workflow_id",
]
