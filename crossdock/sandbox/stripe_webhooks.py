"""Stripe's side of webhooks: sign each delivery and POST it, at least once.

As Stripe does: each delivery is signed afresh (`t` = send time), a failed delivery is
retried with backoff, and nothing about the order is promised. The fault profile makes
that visible: some events are sent twice, some are held back so later ones overtake them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from typing import Any

import httpx
import structlog

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.dispute_config import DisputeSandboxConfig

log = structlog.get_logger(__name__)

# Stripe retries for days; the sandbox gives up after this many attempts.
MAX_ATTEMPTS = 30
HOLD_BACK_SECONDS = (0.3, 1.5)


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookSender:
    def __init__(
        self, ctx: SandboxContext, config: DisputeSandboxConfig, draw: random.Random
    ) -> None:
        self._ctx = ctx
        self._config = config
        self._draw = draw
        self._tasks: set[asyncio.Task[None]] = set()
        # Every event id in the order it was first sent (tests and operators read it).
        self.sent: list[str] = []

    def send(self, event: dict[str, Any]) -> None:
        """Queue `event` for delivery (returns at once; delivery runs in the background)."""
        self.sent.append(str(event["id"]))
        url = self._config.webhook_url
        if url is None:
            return
        payload = json.dumps(event).encode()
        hold = self._draw.random() < self._config.reorder_rate
        self._start(self._deliver(url, payload, hold))
        if self._draw.random() < self._config.duplicate_rate:
            self._start(self._deliver(url, payload, hold=True))

    def _start(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, payload: bytes, hold: bool) -> None:
        if hold:
            await asyncio.sleep(self._draw.uniform(*HOLD_BACK_SECONDS))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            signature = stripe_signature(payload, self._config.webhook_secret, int(time.time()))
            headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
            try:
                response = await self._ctx.http.post(url, content=payload, headers=headers)
                if response.is_success:
                    return
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as err:
                problem = str(err) or type(err).__name__
            log.info("stripe_webhook_retry", attempt=attempt, problem=problem)
            await asyncio.sleep(min(0.5 * 2**attempt, 5.0))
        log.warning("stripe_webhook_abandoned", attempts=MAX_ATTEMPTS)
