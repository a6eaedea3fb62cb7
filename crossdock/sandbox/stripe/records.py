"""The sandbox's records of PaymentIntents and refunds, rendered as Stripe shows them."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from crossdock.money import Money
from crossdock.sandbox.stripe.shapes import Json


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass
class PaymentIntent:
    """The sandbox's record of one PaymentIntent (amounts in minor units)."""

    id: str
    amount: int
    currency: str  # lower case, as Stripe answers
    capture_method: str
    payment_method: str | None
    metadata: dict[str, str]
    description: str | None
    status: str
    created: int = field(default_factory=lambda: int(time.time()))
    client_secret: str = field(default_factory=lambda: f"secret_{secrets.token_hex(12)}")
    amount_capturable: int = 0
    amount_received: int = 0
    amount_refunded: int = 0
    latest_charge: str | None = None
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    last_payment_error: Json | None = None

    @property
    def order(self) -> str | None:
        return self.metadata.get("order")

    def money(self, amount: int) -> Money:
        return Money(amount=amount, currency=self.currency.upper())

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": self.amount_capturable,
            "amount_received": self.amount_received,
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": self.capture_method,
            "client_secret": f"{self.id}_{self.client_secret}",
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": None,
            "description": self.description,
            "last_payment_error": self.last_payment_error,
            "latest_charge": self.latest_charge,
            "livemode": False,
            "metadata": dict(self.metadata),
            "next_action": None,
            "payment_method": self.payment_method,
            "payment_method_types": ["card"],
            "status": self.status,
        }


@dataclass
class Refund:
    id: str
    amount: int
    currency: str
    payment_intent: str
    charge: str | None
    reason: str | None
    metadata: dict[str, str]
    status: str = "succeeded"
    created: int = field(default_factory=lambda: int(time.time()))

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": f"txn_{self.id.removeprefix('re_')}",
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "metadata": dict(self.metadata),
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "status": self.status,
        }


# --- request parsing ------------------------------------------------------------------
