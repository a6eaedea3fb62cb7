"""Contracts of the intake activities."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from crossdock.models.order import Channel


class ImportOrdersInput(BaseModel):
    channel: Channel
    created_after: datetime
    skip: list[str] = Field(default_factory=list)  # already imported, do not start again


class RefusedOrder(BaseModel):
    channel_order_id: str
    reason: str


class ImportOrdersResult(BaseModel):
    # Every order id listed (imported now or before), with its purchase time.
    seen: dict[str, datetime] = Field(default_factory=dict)
    started: list[str] = Field(default_factory=list)
    refused: list[RefusedOrder] = Field(default_factory=list)
