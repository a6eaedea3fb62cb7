"""The headers every SP-API answer carries: `x-amzn-RequestId`, and
`x-amzn-RateLimit-Limit`, the operation's rate (requests per second) in the seller's
usage plan, which clients pace themselves by. A throttled request is a 429 QuotaExceeded
with that header and no Retry-After (SP-API sends none); the wait is 1 / limit.

The rates are the default usage plans of Amazon's Orders, Feeds, Reports and Tokens API
references; a fault profile's `rate_limit_per_second` for an operation replaces its rate,
so the header tells the rate the sandbox actually enforces.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossdock.sandbox.faults import FaultProfile

# (method, path pattern below /amazon, requests per second)
USAGE_PLANS: tuple[tuple[str, str, float], ...] = (
    ("GET", r"/orders/v0/orders", 0.0167),
    ("GET", r"/orders/v0/orders/[^/]+", 0.5),
    ("GET", r"/orders/v0/orders/[^/]+/orderItems", 0.5),
    ("POST", r"/orders/v0/orders/[^/]+/shipmentConfirmation", 2.0),
    ("POST", r"/feeds/2021-06-30/documents", 0.5),
    ("POST", r"/feeds/2021-06-30/feeds", 0.0083),
    ("GET", r"/feeds/2021-06-30/feeds/[^/]+", 2.0),
    ("GET", r"/feeds/2021-06-30/documents/[^/]+", 0.0222),
    ("POST", r"/reports/2021-06-30/reports", 0.0167),
    ("GET", r"/reports/2021-06-30/reports/[^/]+", 2.0),
    ("GET", r"/reports/2021-06-30/documents/[^/]+", 0.0167),
    ("POST", r"/tokens/2021-03-01/restrictedDataToken", 1.0),
)
DEFAULT_RATE = 1.0
PLANS = [(m, re.compile(f"^{p}$"), r) for m, p, r in USAGE_PLANS]


def rate_of(method: str, path: str, profile: FaultProfile) -> float:
    """The rate limit of `method` on `path` (below /amazon)."""
    rule = profile.rule_for("amazon", method, f"/amazon{path}")
    if rule.rate_limit_per_second:
        return rule.rate_limit_per_second
    for planned, pattern, rate in PLANS:
        if planned == method and pattern.match(path):
            return rate
    return DEFAULT_RATE


class AmazonHeadersMiddleware:
    """Adds SP-API's request id and rate-limit headers to every /amazon answer."""

    def __init__(self, app: ASGIApp, profile: FaultProfile) -> None:
        self.app = app
        self.profile = profile

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/amazon/") or "/_sandbox" in path:
            await self.app(scope, receive, send)
            return
        rate = rate_of(scope["method"], path.removeprefix("/amazon"), self.profile)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-amzn-RequestId"] = str(uuid.uuid4())
                headers["x-amzn-RateLimit-Limit"] = f"{rate:g}"
                if "retry-after" in headers:
                    del headers["retry-after"]
            await send(message)

        await self.app(scope, receive, send_with_headers)
