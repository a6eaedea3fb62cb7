"""Buyer history for the risk rules: how often a buyer ordered before this order."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import AwareDatetime, Buyer, Channel


class RecordBuyerOrderInput(BaseModel):
    """One order to add to its buyer's history (idempotent by `order_workflow_id`)."""

    model_config = ConfigDict(frozen=True)

    order_workflow_id: Annotated[str, Field(min_length=1, max_length=255)]
    channel: Channel
    buyer: Buyer
    placed_at: AwareDatetime
    # The velocity rule's window (risk_rules.json), passed by the workflow so the rule
    # and the count cannot disagree.
    window_hours: Annotated[int, Field(gt=0)]


class BuyerHistory(BaseModel):
    """The buyer's orders placed strictly before this one, as first recorded."""

    model_config = ConfigDict(frozen=True)

    previous_orders: Annotated[int, Field(ge=0)]
    orders_in_window: Annotated[int, Field(ge=0)]

    @property
    def first_time_buyer(self) -> bool:
        return self.previous_orders == 0
