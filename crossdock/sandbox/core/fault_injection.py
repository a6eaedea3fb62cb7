"""Applying a fault profile to every partner request, and counting what it injected.

`FaultInjector.plan` draws, per request, the faults a profile gives it (pure and
seeded); `FaultMiddleware` carries the plan out on the wire. A plain ASGI middleware
rather than Starlette's `BaseHTTPMiddleware`: it must hold back a finished answer,
truncate its body, or close the connection without answering at all.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossdock.sandbox.core.fault_shapes import partner_error
from crossdock.sandbox.faults import STRIKE_KINDS, FaultCounts, FaultProfile, StrikeKind

_ERROR_STATUS = {"error_500": 500, "error_502": 502, "error_503": 503}


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> float:
        """Take a token; return 0 on success, else seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass(frozen=True)
class Plan:
    """What happens to one request."""

    partner: str
    latency: float = 0.0  # seconds added before anything else
    retry_after: float = 0.0  # > 0: refused with 429 by the rate limit
    before: StrikeKind | None = None
    after: StrikeKind | None = None
    slow: float = 0.0  # seconds a `slow` answer is held


def _pick(rates: dict[StrikeKind, float], draw: float) -> StrikeKind | None:
    total = 0.0
    for kind in STRIKE_KINDS:
        total += rates.get(kind, 0.0)
        if draw < total:
            return kind
    return None


def partner_of(path: str) -> str:
    """The partner a sandbox path belongs to: its first segment (/stripe/v1/... → stripe)."""
    return path.strip("/").split("/", 1)[0]


class FaultInjector:
    """Draws each request's faults from the profile: one seeded stream per partner."""

    def __init__(self, profile: FaultProfile, counts: FaultCounts) -> None:
        self.profile = profile
        self.counts = counts
        self._streams: dict[str, random.Random] = {}
        self._buckets: dict[str, TokenBucket] = {}

    def _stream(self, partner: str) -> random.Random:
        if partner not in self._streams:
            self._streams[partner] = random.Random(f"{self.profile.seed}:{partner}")
        return self._streams[partner]

    def _retry_after(self, partner: str, method: str, path: str, rate: float, burst: int) -> float:
        if not rate:
            return 0.0
        endpoint = self.profile.endpoint_for(method, path)
        key = f"{endpoint.method} {endpoint.path}" if endpoint else partner
        bucket = self._buckets.setdefault(key, TokenBucket(rate, burst))
        return bucket.take()

    def plan(self, method: str, path: str) -> Plan:
        """The faults for this request; every request draws the same four numbers, so one
        request's outcome never shifts the next one's draws."""
        partner = partner_of(path)
        rule = self.profile.rule_for(partner, method, path)
        stream = self._stream(partner)
        latency, before, after, slow = (stream.random() for _ in range(4))
        low, high = rule.slow_seconds
        return Plan(
            partner=partner,
            latency=latency * rule.latency_ms / 1000,
            retry_after=self._retry_after(
                partner, method, path, rule.rate_limit_per_second, rule.burst
            ),
            before=_pick(rule.before, before),
            after=_pick(rule.after, after),
            slow=low + (high - low) * slow,
        )


async def _until_disconnect(receive: Receive, seconds: float) -> None:
    """Hold the request `seconds`, or until the client hangs up (its timeout fired)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), seconds)
    except TimeoutError:
        pass


# Where `ConnectionAwareApp` leaves the request's connection in the ASGI scope.
TRANSPORT_KEY = "crossdock.transport"


def connection_of(receive: Receive) -> Any:
    """uvicorn's transport behind its own `receive`, or None (in-process transports)."""
    return getattr(getattr(receive, "__self__", None), "transport", None)


async def _reset(scope: Scope) -> None:
    """Close the connection without an answer; the server then sends nothing, as the
    client is marked disconnected."""
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:
        # In-process transports (httpx.ASGITransport) have no connection to close.
        raise ConnectionResetError("connection reset by the sandbox's fault profile")
    transport.abort()
    await asyncio.sleep(0)  # let the server see the connection go


def _truncated(messages: list[Message]) -> list[Message] | None:
    """The captured 2xx answer with half its body, or None if it was not a 2xx."""
    start = messages[0]
    if not 200 <= start["status"] < 300:
        return None
    body = b"".join(m.get("body", b"") for m in messages[1:])
    cut = body[: max(1, len(body) // 2)]
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(cut)).encode()))
    return [
        {**start, "status": 200, "headers": headers},
        {"type": "http.response.body", "body": cut, "more_body": False},
    ]


async def _replay(send: Send, messages: list[Message]) -> None:
    for message in messages:
        await send(message)


class FaultMiddleware:
    """Carries out each partner request's `Plan` (the /_sandbox routes are spared)."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The sandbox's own routes and its health checks are never faulted.
        path = scope.get("path", "")
        if scope["type"] != "http" or "/_sandbox" in path or path in ("/healthz", "/readyz"):
            await self.app(scope, receive, send)
            return
        plan = self.injector.plan(scope["method"], scope["path"])
        if plan.latency:
            await asyncio.sleep(plan.latency)
        if plan.retry_after:
            self.injector.counts.add(plan.partner, "rate_limited")
            retry = {"Retry-After": str(max(1, round(plan.retry_after)))}
            await partner_error(plan.partner, 429, retry)(scope, receive, send)
            return
        if await self._strike_before(plan, scope, receive, send):
            return
        if plan.after is None:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        await self._strike_after(plan, messages, scope, receive, send)

    async def _strike_before(self, plan: Plan, scope: Scope, receive: Receive, send: Send) -> bool:
        """Apply the `before` fault; True if the request must not reach the handler."""
        kind = plan.before
        if kind is None:
            return False
        self.injector.counts.add(plan.partner, f"before.{kind}")
        if kind == "slow":
            await asyncio.sleep(plan.slow)
            return False
        if kind == "reset":
            await _reset(scope)
        elif kind == "timeout":
            await _until_disconnect(receive, self.injector.profile.hang_seconds)
            await partner_error(plan.partner, 504)(scope, receive, send)
        else:
            await partner_error(plan.partner, _ERROR_STATUS[kind])(scope, receive, send)
        return True

    async def _strike_after(
        self, plan: Plan, messages: list[Message], scope: Scope, receive: Receive, send: Send
    ) -> None:
        """The handler ran (its effect is stored); lose or spoil its answer."""
        kind = plan.after
        assert kind is not None
        if kind == "malformed":
            spoiled = _truncated(messages)
            if spoiled is None:  # nothing to truncate: a refusal is passed on as it is
                await _replay(send, messages)
                return
            messages = spoiled
        self.injector.counts.add(plan.partner, f"after.{kind}")
        if kind == "reset":
            await _reset(scope)
        elif kind == "timeout":
            await _until_disconnect(receive, self.injector.profile.hang_seconds)
            await _replay(send, messages)  # too late: the client gave up
        elif kind in _ERROR_STATUS:
            await partner_error(plan.partner, _ERROR_STATUS[kind])(scope, receive, send)
        else:
            await _replay(send, messages)


def fault_routes(injector: FaultInjector) -> APIRouter:
    """GET /_sandbox/faults: the profile in force and the faults injected so far."""
    router = APIRouter(tags=["sandbox"])

    @router.get("/_sandbox/faults")
    async def faults() -> dict[str, Any]:
        """Faults injected since the sandbox started, by kind and by partner."""
        profile = injector.profile
        return {"profile": profile.name, "seed": profile.seed, **injector.counts.snapshot()}

    return router
