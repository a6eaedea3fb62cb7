"""A route no partner has, answered in the partner's own error shape, not FastAPI's
`{"detail": "Not Found"}`: a client reading the real partner's errors reads these too.

The messages are the partners' own where they publish them (Stripe's "Unrecognized
request URL", eBay's errorId 2002 "Resource not found").
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from crossdock.sandbox.amazon.orders import sp_api_error
from crossdock.sandbox.core.fault_injection import partner_of
from crossdock.sandbox.customs.routes import customs_error
from crossdock.sandbox.easypost.shapes import EasyPostError
from crossdock.sandbox.ebay.orders import ebay_error, post_order_error
from crossdock.sandbox.mail import MailError
from crossdock.sandbox.stripe.shapes import StripeError
from crossdock.sandbox.suppliers import supplier_error
from crossdock.sandbox.warehouse.routes import warehouse_error


def unknown_route(method: str, path: str, status: int) -> JSONResponse:
    """The answer to `method` on `path`, which no route serves (404) or not with this
    method (405), in the shape of the partner the path belongs to."""
    partner, _, rest = path.strip("/").partition("/")
    where = f"/{rest}"
    if partner == "stripe":
        return StripeError(
            404,
            f"Unrecognized request URL ({method}: {where}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
        ).response()
    message = f"No {method} operation at {where}"
    if partner == "ebay":
        if where.startswith("/post-order/"):
            return post_order_error(status, 2002, "Resource not found", {"uri": where})
        return ebay_error(status, 2002, "Resource not found", {"uri": where}, domain="ACCESS")
    if partner == "amazon":
        return sp_api_error(status, "NotFound" if status == 404 else "InvalidInput", message)
    if partner == "easypost":
        code = "NOT_FOUND" if status == 404 else "METHOD.NOT_ALLOWED"
        return EasyPostError(status, code, message).response()
    if partner == "mail":
        return MailError(status, [{"message": message, "field": None, "help": None}]).response()
    if partner == "customs":
        return customs_error(status, "not_found", message)
    if partner == "warehouse":
        return warehouse_error(status, "not_found", message, "path")
    if partner == "suppliers":
        return supplier_error(status, "not_found", message, "path")
    return JSONResponse({"error": {"code": "not_found", "message": message}}, status_code=status)


def answer_unknown_routes(app: FastAPI) -> None:
    """Render the router's own 404 and 405 in the partners' shapes."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code not in (404, 405) or partner_of(request.url.path) == "_sandbox":
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return unknown_route(request.method, request.url.path, exc.status_code)

    app.add_exception_handler(HTTPException, handle)
