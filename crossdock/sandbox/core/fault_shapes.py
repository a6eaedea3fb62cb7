"""Injected failures in each partner's own error shape, built with its module's renderer.

A client reads a partner's 5xx and 429 the way it reads its refusals, so an injected
fault must look like the partner's: Stripe `{"error": {"type", "message"}}`, EasyPost
`{"error": {"code", "message", "errors"}}`, SP-API `{"errors": [{"code", "message"}]}`,
eBay `{"errors": [{"errorId", "domain", "category", "message"}]}`, SendGrid
`{"errors": [{"message", "field", "help"}]}`, and `{"error": {"code", "message"}}` for
customs, the storefront, the warehouse and the suppliers' desk.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import JSONResponse

from crossdock.sandbox.amazon.orders import sp_api_error
from crossdock.sandbox.customs.routes import customs_error
from crossdock.sandbox.easypost.shapes import EasyPostError
from crossdock.sandbox.ebay.orders import ebay_error
from crossdock.sandbox.mail import MailError
from crossdock.sandbox.stripe.shapes import StripeError
from crossdock.sandbox.suppliers import supplier_error
from crossdock.sandbox.warehouse.routes import warehouse_error

MESSAGES = {
    429: "Too many requests: the request rate limit was exceeded; retry after Retry-After.",
    500: "An internal error occurred while processing the request.",
    502: "Bad gateway: the upstream service did not answer.",
    503: "The service is temporarily unavailable; try again later.",
    504: "Gateway timeout: the upstream service took too long to answer.",
}
# Each partner's error code for these statuses, as their API references list them.
_CODES: dict[str, dict[int, str]] = {
    "easypost": {429: "RATE_LIMITED", 500: "INTERNAL_SERVER_ERROR", 502: "BAD_GATEWAY"},
    "amazon": {429: "QuotaExceeded", 500: "InternalFailure", 502: "InternalFailure"},
    "default": {429: "rate_limited", 500: "internal_error", 502: "bad_gateway"},
}
_EASYPOST_DEFAULT, _AMAZON_DEFAULT = "SERVICE_UNAVAILABLE", "ServiceUnavailable"


def _code(partner: str, status: int) -> str:
    fallback = {"easypost": _EASYPOST_DEFAULT, "amazon": _AMAZON_DEFAULT}.get(
        partner, "service_unavailable"
    )
    return _CODES.get(partner, _CODES["default"]).get(status, fallback)


def _stripe(status: int, message: str) -> JSONResponse:
    if status == 429:
        return StripeError(
            429, message, type_="invalid_request_error", code="rate_limit"
        ).response()
    return StripeError(status, message, type_="api_error").response()


def _ebay(status: int, message: str) -> JSONResponse:
    # 2001 is eBay's "Too many requests"; 10001 its generic system error.
    if status == 429:
        return ebay_error(429, 2001, message, domain="ACCESS")
    return ebay_error(status, 10001, message, domain="API_FULFILLMENT")


def _coded(render: Callable[..., JSONResponse], partner: str) -> Callable[[int, str], JSONResponse]:
    return lambda status, message: render(status, _code(partner, status), message)


def _fielded(render: Callable[..., JSONResponse]) -> Callable[[int, str], JSONResponse]:
    # These bodies always name a field; a server fault concerns the request as a whole.
    return lambda status, message: render(status, _code("default", status), message, "request")


def _storefront(status: int, message: str) -> JSONResponse:
    error = {"code": _code("default", status), "message": message}
    return JSONResponse({"error": error}, status_code=status)


_RENDERERS: dict[str, Callable[[int, str], JSONResponse]] = {
    "stripe": _stripe,
    "easypost": lambda s, m: EasyPostError(s, _code("easypost", s), m).response(),
    "amazon": _coded(sp_api_error, "amazon"),
    "ebay": _ebay,
    "customs": _coded(customs_error, "default"),
    "storefront": _storefront,
    "mail": lambda s, m: MailError(s, [{"message": m, "field": None, "help": None}]).response(),
    "warehouse": _fielded(warehouse_error),
    "suppliers": _fielded(supplier_error),
}


def partner_error(partner: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """A `status` answer (429, 500, 502, 503, 504) in `partner`'s own error shape."""
    render = _RENDERERS.get(partner, _storefront)
    response = render(status, MESSAGES.get(status, MESSAGES[503]))
    response.headers.update(headers or {})
    return response
