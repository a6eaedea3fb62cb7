"""One place where partner HTTP responses become typed errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx

from crossdock.observability.metrics import PARTNER_CALLS, PARTNER_ERRORS, PARTNER_SECONDS
from crossdock.partners.errors import (
    PartnerError,
    PartnerRejected,
    PartnerUnavailable,
    RateLimited,
)

# Reads (code, message) out of a partner's error body; each partner has its own shape.
ErrorReader = Callable[[Any], tuple[str | None, str | None]]


def _retry_after(response: httpx.Response) -> float | None:
    """How long to wait before retrying a 429: its Retry-After, else one request's share
    of the rate SP-API states in `x-amzn-RateLimit-Limit` (it sends no Retry-After)."""
    value = response.headers.get("Retry-After")
    try:
        if value is not None:
            return float(value)
        rate = float(response.headers.get("x-amzn-RateLimit-Limit", "0"))
    except ValueError:
        return None
    return 1 / rate if rate > 0 else None


def classify(partner: str, response: httpx.Response, read_error: ErrorReader) -> PartnerError:
    """The typed error for a non-2xx `response`."""
    try:
        code, message = read_error(response.json())
    except (ValueError, KeyError, TypeError, AttributeError):
        code, message = None, None
    message = message or response.text[:200] or response.reason_phrase
    status = response.status_code
    if status == 429:
        return RateLimited(
            partner, message, status=status, code=code, retry_after=_retry_after(response)
        )
    if status >= 500 or status in (408, 409):
        return PartnerUnavailable(partner, message, status=status, code=code)
    return PartnerRejected(partner, message, status=status, code=code)


async def send(
    http: httpx.AsyncClient,
    partner: str,
    method: str,
    url: str,
    read_error: ErrorReader,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; return the 2xx response or raise a classified `PartnerError`.
    Each request is counted by partner and outcome (crossdock/observability/metrics.py)."""
    started = time.monotonic()
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        _count(partner, started, "unavailable", "timeout")
        raise PartnerUnavailable(partner, f"timed out calling {method} {url}") from exc
    except httpx.TransportError as exc:
        _count(partner, started, "unavailable", "unreachable")
        raise PartnerUnavailable(partner, f"cannot reach {url}: {exc}") from exc
    if response.is_success:
        try:
            _check_json(partner, method, url, response)
        except PartnerUnavailable:
            _count(partner, started, "unavailable", "malformed")
            raise
        _count(partner, started, "ok")
        return response
    error = classify(partner, response, read_error)
    kind = _KINDS.get(type(error), "rejected")
    _count(partner, started, kind, kind)
    raise error


_KINDS: dict[type[PartnerError], str] = {
    RateLimited: "rate_limited",
    PartnerUnavailable: "unavailable",
    PartnerRejected: "rejected",
}


def _count(partner: str, started: float, outcome: str, error_kind: str | None = None) -> None:
    PARTNER_SECONDS.labels(partner).observe(time.monotonic() - started)
    PARTNER_CALLS.labels(partner, outcome).inc()
    if error_kind is not None:
        PARTNER_ERRORS.labels(partner, error_kind).inc()


def _check_json(partner: str, method: str, url: str, response: httpx.Response) -> None:
    """Refuse a 2xx whose JSON body does not parse (cut off in transit, a proxy's page):
    a partner fault, retried like a 5xx. Left to the caller, the `ValueError` would read
    as a refusal of our data (an order "not importable") or escape classification."""
    if "json" not in response.headers.get("content-type", "") or not response.content:
        return
    try:
        json.loads(response.content)
    except ValueError as exc:
        raise PartnerUnavailable(
            partner, f"malformed JSON in the {response.status_code} answer to {method} {url}"
        ) from exc


class PartnerConnection:
    """Where a partner client sends: its base URL, timeout and HTTP client.

    A client given an `httpx.AsyncClient` shares it (tests pass one bound to the
    sandbox app; the eBay APIs share one pool) and leaves closing it to its owner; a
    client that made its own closes it in `aclose`.
    """

    def __init__(self, base_url: str, http: httpx.AsyncClient | None, timeout: float) -> None:
        self._base = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient()
        self._timeout = timeout

    @property
    def http(self) -> httpx.AsyncClient:
        """The HTTP client this adapter sends through."""
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client if this adapter created it."""
        if self._owns_http:
            await self._http.aclose()


class PartnerApi(PartnerConnection):
    """A partner connection that sends every request with the same headers and reads the
    partner's errors one way: the `_call` most adapters would otherwise each write."""

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient | None,
        timeout: float,
        *,
        partner: str,
        read_error: ErrorReader,
        headers: dict[str, str],
    ) -> None:
        super().__init__(base_url, http, timeout)
        self._partner = partner
        self._read_error = read_error
        self._headers = headers

    async def _call(
        self, method: str, path: str, idempotency_key: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """`method` on `path` under the base URL: the 2xx response or a `PartnerError`.
        An `idempotency_key` goes out as the `Idempotency-Key` header."""
        headers = self._headers | kwargs.pop("headers", {})
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return await send(
            self._http,
            self._partner,
            method,
            f"{self._base}{path}",
            self._read_error,
            headers=headers,
            timeout=self._timeout,
            **kwargs,
        )

    async def _json(
        self, method: str, path: str, idempotency_key: str | None = None, **kwargs: Any
    ) -> Any:
        """`_call`, answering the response's JSON body."""
        return (await self._call(method, path, idempotency_key, **kwargs)).json()


def read_field_error(body: Any) -> tuple[str | None, str | None]:
    """(code, "field: message") of {"error": {code, message, field}}, the error body of
    the seller's own services (customs broker, warehouse, suppliers' RMA desk)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    message, field = error.get("message"), error.get("field")
    return error.get("code"), f"{field}: {message}" if field else message


class ServiceApi(PartnerApi):
    """A client of one of the seller's own services, named `service`, whose errors come
    as {"error": {code, message, field}}.

    Args:
        base_url: Service root, e.g. "http://127.0.0.1:8700/warehouse".
        http: A shared `httpx.AsyncClient`; one is created (and owned) when omitted.
        timeout: Seconds per request.
        headers: Sent with every request (e.g. an API key).
    """

    service: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            base_url,
            http,
            timeout,
            partner=self.service,
            read_error=read_field_error,
            headers=headers or {},
        )
