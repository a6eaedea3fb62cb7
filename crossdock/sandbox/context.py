"""What every simulated partner shares: configuration, records, ledger, idempotency, HTTP."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field, field_validator

from crossdock.config import Settings
from crossdock.sandbox.core.idempotency import IdempotencyStore
from crossdock.sandbox.core.ledger import Ledger
from crossdock.sandbox.core.store import RecordStore
from crossdock.sandbox.easypost.scenarios import check_rates
from crossdock.sandbox.faults import FaultCounts, FaultProfile
from crossdock.sandbox.stripe.dispute_config import DisputeSandboxConfig
from crossdock.secrets import sandbox_secrets, stripe_webhook_secret


class SandboxConfig(BaseModel):
    # The SQLite file holding every partner's records (`<state_dir>/sandbox.db` under
    # `crossdock sandbox`); None keeps them in memory, forgotten when the process ends.
    database: Path | None = None
    faults: FaultProfile = Field(default_factory=FaultProfile)
    # Seconds between a tracker's status steps (pre_transit → ... → delivered).
    tracking_step_seconds: float = 3600.0
    # Where carrier webhooks (EasyPost Events) are POSTed; None = not pushed.
    carrier_webhook_url: str | None = None
    # Where the storefront's checkout posts orders (Crossdock intake); None = kept only.
    storefront_checkout_url: str | None = None
    # The secrets carrier webhooks (X-Hmac-Signature) and storefront checkouts
    # (Crossdock-Storefront-Signature) are signed with; None = sent unsigned.
    carrier_webhook_secret: str | None = None
    storefront_signing_secret: str | None = None
    # Share of customs declarations held for a random inspection, and for how long.
    customs_hold_rate: float = Field(default=0.0, ge=0, le=1)
    customs_hold_seconds: float = Field(default=4 * 3600, ge=0)
    # Share of bought parcels that follow each exception scenario ("delayed", "lost",
    # "return_to_sender", "address_problem", "customs_hold"); the rest arrive normally.
    tracker_exception_rates: dict[str, float] = Field(default_factory=dict)
    # The warehouse receives a restock (sizes in crossdock/data/warehouse_stock.json)
    # every this many seconds; 0 = never (stock then changes only through its API).
    warehouse_restock_seconds: float = Field(default=3600.0, ge=0)
    # Stripe disputes: webhook target and secret, deadlines, issuer behaviour.
    disputes: DisputeSandboxConfig = Field(default_factory=DisputeSandboxConfig)
    seed: int = 0

    @field_validator("tracker_exception_rates")
    @classmethod
    def _known_scenarios(cls, rates: dict[str, float]) -> dict[str, float]:
        return check_rates(rates)

    @classmethod
    def from_settings(cls, settings: Settings, faults: FaultProfile) -> SandboxConfig:
        """The sandbox `crossdock sandbox` serves: its records in the state dir, webhooks
        and checkouts pushed to intake, signed with the install's secrets."""
        return cls(
            faults=faults.for_client_timeout(settings.partner_timeout_seconds),
            database=settings.sandbox_database,
            tracking_step_seconds=settings.tracking_step_seconds,
            carrier_webhook_url=f"{settings.intake_url}/webhooks/easypost",
            storefront_checkout_url=f"{settings.intake_url}/intake/storefront/checkout",
            **sandbox_secrets(settings),
            customs_hold_rate=settings.customs_hold_rate,
            customs_hold_seconds=settings.customs_hold_seconds,
            tracker_exception_rates=settings.tracker_exception_rates,
            warehouse_restock_seconds=settings.warehouse_restock_seconds,
            disputes=DisputeSandboxConfig(
                webhook_url=f"{settings.intake_url}/webhooks/stripe",
                webhook_secret=stripe_webhook_secret(settings),
                due_seconds=settings.dispute_due_seconds,
                review_seconds=settings.dispute_review_seconds,
            ),
            seed=settings.demo_seed,
        )


Background = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class SandboxContext:
    config: SandboxConfig
    # Opened on config.database; every partner's tables live in it.
    store: RecordStore = field(init=False)
    ledger: Ledger = field(init=False)
    idempotency: IdempotencyStore = field(init=False)
    # Long-running tasks (tracker advancement, webhook delivery) started by the app's lifespan.
    background: list[Background] = field(default_factory=list)
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10.0))
    # Faults injected by the profile (requests and webhooks), for GET /_sandbox/faults.
    fault_counts: FaultCounts = field(default_factory=FaultCounts)

    def __post_init__(self) -> None:
        self.store = RecordStore(self.config.database)
        self.ledger = Ledger(self.store)
        self.idempotency = IdempotencyStore(self.store)
