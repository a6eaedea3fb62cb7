"""Per-source rate limits on intake's endpoints: a token bucket per (endpoint, client).

A partner that misbehaves, or anybody who can reach the port, gets `429 Too Many
Requests` with `Retry-After` past the burst, instead of a signal, a partner call or a
signature check per request. The source is the TCP peer's address: intake does not trust
`X-Forwarded-For`, so behind a proxy the limit is the proxy's (set it there too).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """`rate` requests per second per source on average, bursts of up to `burst`.

    Remembers at most `sources` sources (the least recently seen are forgotten, and start
    again with a full bucket), so a flood of addresses cannot grow it without bound.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sources: int = 10_000,
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._sources = sources
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def wait(self, source: str) -> float:
        """Take a token for `source`: 0 when allowed, else seconds until one is free."""
        now = self._clock()
        bucket = self._buckets.pop(source, None) or _Bucket(float(self._burst), now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        self._buckets[source] = bucket
        while len(self._buckets) > self._sources:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self._rate


def enforce(request: Request, endpoint: str) -> None:
    """Refuse with 429 when the request's source is over its limit for `endpoint`.

    The limiter is the app's `state.rate_limiter`; an app without one has no limit.
    """
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return
    source = request.client.host if request.client else "unknown"
    wait = limiter.wait(f"{endpoint}|{source}")
    if wait > 0:
        raise HTTPException(
            status_code=429,
            detail=f"too many requests to {endpoint} from {source}; retry in {wait:.1f} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )
