"""Outbound webhooks, at least once: how every sandbox partner pushes its events.

As Stripe and EasyPost do, an event is POSTed until the receiver answers 2xx, backing
off exponentially after a refusal (non-2xx) or a connection error, and abandoned (and
logged) only after the partner's retry window. The partner computes the headers of
each attempt from the body (`headers_for`), since signatures carry the send time.

The fault profile's `webhooks` rates (per partner) then make delivery as untidy as the
real thing: an event sent twice (`duplicate`: the second copy later, as a partner that
missed the acknowledgement sends it again), held back (`delay`), held until a later
event has been delivered (`reorder`), or whose first attempt is lost (`drop`: retried
on the partner's backoff). Pending deliveries live in memory.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.faults import WEBHOOK_KINDS, WebhookKind

log = structlog.get_logger(__name__)

HeadersFor = Callable[[bytes], dict[str, str]]


@dataclass(frozen=True)
class Backoff:
    """Seconds before the first retry, the cap on the doubling delay, and when to stop:
    after `window` seconds or `attempts` attempts, whichever comes first."""

    initial: float = 1.0
    maximum: float = 300.0
    window: float = 3 * 24 * 3600.0
    attempts: int | None = None


@dataclass(frozen=True)
class Delivery:
    """The profile's draws for one event (the same draws whatever the outcome)."""

    duplicate: bool = False
    delay: float = 0.0
    reorder: bool = False
    drop: bool = False


class Outbox:
    """One partner's webhook deliveries, each in its own task so none holds back another."""

    def __init__(
        self,
        ctx: SandboxContext,
        partner: str,
        headers_for: HeadersFor,
        backoff: Backoff | None = None,
        *,
        floor: dict[WebhookKind, float] | None = None,
    ) -> None:
        """Args:
        ctx: the sandbox (HTTP client, fault profile, fault counts).
        partner: the profile's partner name ("stripe", "easypost", ...).
        headers_for: the headers of one attempt, given the body it sends.
        backoff: the partner's retry schedule.
        floor: the partner's own webhook untidiness (rates the profile can only raise).
        """
        self._ctx = ctx
        self.partner = partner
        self._headers_for = headers_for
        self.backoff = backoff or Backoff()
        rule = ctx.config.faults.rule_for(partner)
        self._rates = {
            k: max(rule.webhooks.get(k, 0.0), (floor or {}).get(k, 0.0)) for k in WEBHOOK_KINDS
        }
        self._hold = rule.webhook_delay_seconds
        self._random = random.Random(
            f"{ctx.config.faults.seed}:webhooks:{partner}:{ctx.config.seed}"
        )
        self._tasks: set[asyncio.Task[bool]] = set()
        self._sequence = 0  # events queued so far
        self._settled = 0  # the latest event delivered (or abandoned)
        self._changed = asyncio.Event()  # set (and replaced) on news for held events

    def _draw(self) -> Delivery:
        duplicate, delay, reorder, drop, hold = (self._random.random() for _ in range(5))
        low, high = self._hold
        return Delivery(
            duplicate=duplicate < self._rates["duplicate"],
            delay=low + (high - low) * hold if delay < self._rates["delay"] else 0.0,
            reorder=reorder < self._rates["reorder"],
            drop=drop < self._rates["drop"],
        )

    def send(
        self, url: str, body: bytes, event_id: str, *, copies: int = 1
    ) -> list[asyncio.Task[bool]]:
        """Start delivering `body` (`copies` times, plus any duplicate the profile adds);
        returns the delivery tasks, each ending True once the receiver accepted."""
        self._sequence += 1
        self._changed.set()  # a held event now has a later one to wait for
        self._changed = asyncio.Event()
        plan = self._draw()
        self._count(plan)
        first = self._start(self._first(url, body, event_id, self._sequence, plan))
        tasks = [first] + [
            self._start(self.deliver(url, body, event_id)) for _ in range(copies - 1)
        ]
        if plan.duplicate:
            again = self._hold[1]  # after the first copy's hold: the receiver sees it twice
            tasks.append(self._start(self.deliver(url, body, event_id, wait=again)))
        return tasks

    def _count(self, plan: Delivery) -> None:
        for kind, struck in (
            ("duplicate", plan.duplicate),
            ("delay", bool(plan.delay)),
            ("reorder", plan.reorder),
            ("drop", plan.drop),
        ):
            if struck:
                self._ctx.fault_counts.add(self.partner, f"webhook.{kind}")

    def _start(self, work: Coroutine[Any, Any, bool]) -> asyncio.Task[bool]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_report_crash)
        return task

    async def _first(
        self, url: str, body: bytes, event_id: str, sequence: int, plan: Delivery
    ) -> bool:
        if plan.reorder:
            await self._until_overtaken(sequence, self._hold[1])
        if plan.delay:
            await asyncio.sleep(plan.delay)
        delivered = await self.deliver(url, body, event_id, drop_first=plan.drop)
        self._settled = max(self._settled, sequence)
        self._changed.set()
        self._changed = asyncio.Event()
        return delivered

    async def _until_overtaken(self, sequence: int, limit: float) -> None:
        """Hold an event until a later one has been delivered (or abandoned); if none is
        queued within `limit` seconds, let it go. A held later event waits for one after
        it, and the last of them only for its own limit, so none waits forever."""
        deadline = asyncio.get_running_loop().time() + limit
        while self._settled <= sequence:
            changed = self._changed
            if self._sequence > sequence:
                await changed.wait()  # a later event exists and will settle
                continue
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return

    async def deliver(
        self, url: str, body: bytes, event_id: str, *, wait: float = 0.0, drop_first: bool = False
    ) -> bool:
        """POST `body` to `url` until a 2xx, on the backoff; False once abandoned."""
        if wait:
            await asyncio.sleep(wait)
        loop = asyncio.get_running_loop()
        backoff = self.backoff
        give_up_at = loop.time() + backoff.window
        delay, attempt = backoff.initial, 1
        if drop_first:
            log.info("webhook_dropped", partner=self.partner, event_id=event_id)
        elif await self._post(url, body, event_id):
            return True
        while loop.time() + delay <= give_up_at and attempt != backoff.attempts:
            await asyncio.sleep(delay)
            delay, attempt = min(delay * 2, backoff.maximum), attempt + 1
            if await self._post(url, body, event_id):
                return True
        log.warning("webhook_abandoned", partner=self.partner, event_id=event_id, attempts=attempt)
        return False

    async def _post(self, url: str, body: bytes, event_id: str) -> bool:
        headers = {"Content-Type": "application/json", **self._headers_for(body)}
        try:
            response = await self._ctx.http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("webhook_unreachable", partner=self.partner, event_id=event_id, error=str(exc))
            return False
        if not response.is_success:
            log.info(
                "webhook_refused",
                partner=self.partner,
                event_id=event_id,
                status=response.status_code,
            )
        return response.is_success

    @property
    def pending(self) -> int:
        """Deliveries not yet accepted nor abandoned."""
        return len(self._tasks)

    async def aclose(self) -> None:
        """Cancel every pending delivery (the sandbox is stopping)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _report_crash(task: asyncio.Task[bool]) -> None:
    # A delivery that crashed (a bug, not a refusing receiver) must not vanish silently.
    if not task.cancelled() and task.exception() is not None:
        log.error("webhook_delivery_crashed", error=repr(task.exception()))
