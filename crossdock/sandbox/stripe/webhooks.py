"""Stripe's side of webhooks: each delivery signed afresh and POSTed, at least once.

As Stripe does: `t` in the signature is the send time of each attempt, a failed
delivery is retried with backoff, and nothing about the order is promised. Delivery
(and the fault profile's duplicates, delays, reordering and drops) is
`crossdock.sandbox.core.webhooks`; `duplicate_rate` and `reorder_rate` of the dispute config
are this partner's own floor under the profile's rates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.webhooks import Backoff, Outbox
from crossdock.sandbox.faults import WebhookKind
from crossdock.sandbox.stripe.dispute_config import DisputeSandboxConfig

# Stripe retries for days; the sandbox gives up after this many attempts.
MAX_ATTEMPTS = 30
BACKOFF = Backoff(initial=1.0, maximum=5.0, attempts=MAX_ATTEMPTS)


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookSender:
    def __init__(self, ctx: SandboxContext, config: DisputeSandboxConfig) -> None:
        self._config = config

        def headers_for(body: bytes) -> dict[str, str]:
            signed = stripe_signature(body, config.webhook_secret, int(time.time()))
            return {"Stripe-Signature": signed, "Content-Type": "application/json"}

        floor: dict[WebhookKind, float] = {
            "duplicate": config.duplicate_rate,
            "reorder": config.reorder_rate,
        }
        self.outbox = Outbox(ctx, "stripe", headers_for, BACKOFF, floor=floor)
        # Every event id in the order it was first sent (tests and operators read it).
        self.sent: list[str] = []

    def send(self, event: dict[str, Any]) -> None:
        """Queue `event` for delivery (returns at once; delivery runs in the background)."""
        self.sent.append(str(event["id"]))
        url = self._config.webhook_url
        if url is None:
            return
        self.outbox.send(url, json.dumps(event).encode(), str(event["id"]))
