"""Read-model activities: write a workflow's projection (docs/readmodel.md).

Run as local activities from `workflows/projection.py`. Idempotent: a projection whose
sequence number is not above the stored one writes nothing, so a retry or a replayed
write never moves a row backwards. The buyer is stored as their pseudonymous key only.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio import activity

from crossdock.buyers import buyer_key
from crossdock.config import Settings
from crossdock.keys import buyer_key as buyer_key_secret
from crossdock.models.health import HealthCheckInput, HealthCheckResult, OpenAlert
from crossdock.models.readmodel import (
    ProjectCaseInput,
    ProjectDisputeInput,
    ProjectionReceipt,
    ProjectOrderInput,
    ProjectReturnInput,
)
from crossdock.readmodel import rows
from crossdock.readmodel.alerts import HealthAlerts
from crossdock.readmodel.store import ReadModelStore
from crossdock.store import Base, Database, upgrade


class ReadModelActivities:
    def __init__(self, store: ReadModelStore, secret: bytes) -> None:
        self._store = store
        self._secret = secret

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadModelActivities:
        """On the settings' database, migrated first."""
        db = Database.from_settings(settings)
        upgrade(db)
        return cls(ReadModelStore(db), buyer_key_secret(settings))

    async def _write(self, projected: list[Base]) -> ProjectionReceipt:
        # The database driver blocks: run it off the worker's event loop.
        written, stored = await asyncio.to_thread(self._store.write, projected)
        return ProjectionReceipt(written=written, stored_seq=stored)

    @activity.defn
    async def project_order(self, input: ProjectOrderInput) -> ProjectionReceipt:
        """Write an order's rows (head, lines, parcels, scans, decisions)."""
        key = buyer_key(self._secret, input.order.channel, input.order.buyer)
        return await self._write(
            rows.order_rows(input.workflow_id, input.seq, input.order, input.status, key)
        )

    @activity.defn
    async def project_return(self, input: ProjectReturnInput) -> ProjectionReceipt:
        """Write a return's rows (head, refunds, decisions)."""
        return await self._write(rows.return_rows(input.workflow_id, input.seq, input.status))

    @activity.defn
    async def project_dispute(self, input: ProjectDisputeInput) -> ProjectionReceipt:
        """Write a dispute's rows (head, decisions)."""
        return await self._write(rows.dispute_rows(input.workflow_id, input.seq, input.status))

    @activity.defn
    async def project_case(self, input: ProjectCaseInput) -> ProjectionReceipt:
        """Write a buyer conversation's rows (head, messages without text, decisions)."""
        return await self._write(rows.case_rows(input.workflow_id, input.seq, input.status))


class HealthActivities:
    """The hourly health check over the read model."""

    def __init__(self, alerts: HealthAlerts) -> None:
        self._alerts = alerts

    @classmethod
    def from_settings(cls, settings: Settings) -> HealthActivities:
        db = Database.from_settings(settings)
        upgrade(db)
        return cls(HealthAlerts(db))

    @activity.defn
    async def check_health(self, input: HealthCheckInput) -> HealthCheckResult:
        """Recompute every health figure; raise, update or clear the inbox's alerts."""
        now = datetime.now(UTC)
        found = await asyncio.to_thread(self._alerts.check, now)
        return HealthCheckResult(
            open=[
                OpenAlert(metric=a.metric, destination=a.destination, level=a.level, rate=a.rate)
                for a in found
            ]
        )
