"""Records activities: what Crossdock keeps in its own database about orders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity

from crossdock.buyers import buyer_key
from crossdock.config import Settings
from crossdock.keys import buyer_key as buyer_key_secret
from crossdock.models.buyer_history import BuyerHistory, RecordBuyerOrderInput
from crossdock.store import Database, upgrade
from crossdock.store.buyer_orders import BuyerOrders


class RecordsActivities:
    def __init__(self, db: Database, secret: bytes) -> None:
        self._orders = BuyerOrders(db)
        self._secret = secret

    @classmethod
    def from_settings(cls, settings: Settings) -> RecordsActivities:
        """On the settings' database, migrated first (a worker may start before intake)."""
        db = Database.from_settings(settings)
        upgrade(db)
        return cls(db, buyer_key_secret(settings))

    @activity.defn
    async def record_buyer_order(self, input: RecordBuyerOrderInput) -> BuyerHistory:
        """Record the order under its buyer's pseudonymous key; the buyer's orders before
        it (the same answer for the same order, however often it is asked)."""
        # The database driver blocks: run it off the worker's event loop.
        return await asyncio.to_thread(
            self._orders.record,
            buyer_key=buyer_key(self._secret, input.channel, input.buyer),
            order_workflow_id=input.order_workflow_id,
            placed_at=input.placed_at,
            channel=input.channel,
            window=timedelta(hours=input.window_hours),
        )
