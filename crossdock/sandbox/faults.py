"""A reproducible fault profile: latency, server errors and rate limiting.

Faults strike *before* a request reaches its endpoint (as a load balancer or gateway
would), so nothing is executed or stored under an idempotency key when they do; the
client's retry with the same key then runs the request for real.
"""

from __future__ import annotations

import asyncio
import random
import time

from pydantic import BaseModel, Field
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp


class FaultProfile(BaseModel):
    error_rate: float = Field(default=0.0, ge=0, le=1)  # share of requests answered 503
    latency_ms: int = Field(default=0, ge=0)  # added to every request, uniformly 0..latency
    rate_limit_per_second: float = Field(default=0.0, ge=0)  # 0 = unlimited
    burst: int = Field(default=20, ge=1)
    seed: int = 0


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


class FaultMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, profile: FaultProfile) -> None:
        super().__init__(app)
        self.profile = profile
        self.random = random.Random(profile.seed)
        self.buckets: dict[str, TokenBucket] = {}

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if "/_sandbox" in request.url.path:
            return await call_next(request)
        partner = request.url.path.strip("/").split("/", 1)[0]
        profile = self.profile
        if profile.latency_ms:
            await asyncio.sleep(self.random.uniform(0, profile.latency_ms) / 1000)
        if profile.rate_limit_per_second:
            bucket = self.buckets.setdefault(
                partner, TokenBucket(profile.rate_limit_per_second, profile.burst)
            )
            wait = bucket.take()
            if wait:
                return JSONResponse(
                    {"error": {"type": "rate_limit_error", "message": "Too many requests"}},
                    status_code=429,
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
        if profile.error_rate and self.random.random() < profile.error_rate:
            return JSONResponse(
                {"error": {"type": "api_error", "message": "Simulated partner outage"}},
                status_code=503,
            )
        return await call_next(request)
