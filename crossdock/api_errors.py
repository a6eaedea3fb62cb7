"""The one error shape of every intake and console HTTP answer, and the OpenAPI
`responses=` entries that document it per route.

Every refusal is `{"error": code, "message": ..., "fields": [{"field", "message"}]}`
(`fields` only where a field is to blame). Routes declare the status codes they can
answer with `refusals(...)`, so the spec lists each of them with this schema and a
generated client (or schemathesis, tests/integration/test_openapi_schemathesis.py)
knows every answer it may get.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from temporalio.service import RPCError

log = structlog.get_logger(__name__)


class FieldError(BaseModel):
    """One refused field: where it is (`body.items.0.quantity`) and what is wrong."""

    field: str
    message: str


class ApiError(BaseModel):
    """Why a request was refused: a stable code, a sentence, and the fields to blame."""

    error: str = Field(description="A stable code, e.g. invalid_request, signature_refused")
    message: str = Field(description="What was wrong and what would be right")
    fields: list[FieldError] = Field(default_factory=list, description="The refused fields")


# What each status means on this API, for the spec.
WHY: dict[int, str] = {
    400: "Malformed: not what this endpoint takes (the message says what is wrong)",
    401: "Not authenticated: signature or token missing or not accepted",
    403: "Not allowed for this account, or a cross-site request",
    404: "No such case (or not one of this account's)",
    405: "Method not allowed on this path",
    409: "Refused: a replay, a conflicting duplicate, or the workflow refused the action",
    413: "Request body over the size limit",
    422: "Invalid body or parameter: each field named in `fields`",
    429: "Too many requests from this source: retry after `Retry-After` seconds",
    503: "A partner or Temporal could not be reached: retry later",
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route answering `statuses` (plus 413, which every route may),
    each in the `ApiError` shape."""
    codes = sorted({*statuses, 413})
    answers: dict[int | str, dict[str, Any]] = {
        code: {"model": ApiError, "description": WHY[code]} for code in codes
    }
    if 429 in answers:
        answers[429]["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        }
    return answers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A refusal in the `ApiError` shape."""
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


_CODES = {404: "not_found", 405: "method_not_allowed", 429: "rate_limited"}


async def http_error(request: Request, err: Exception) -> JSONResponse:
    """Starlette's and FastAPI's own answers (unknown path, wrong method, rate limit, a
    body that is not even text) in our shape, keeping their headers (Allow, Retry-After)."""
    assert isinstance(err, HTTPException)
    headers = dict(err.headers or {})
    if err.status_code == 400:
        # FastAPI's only 400 here: a body it could not read at all (bytes that are not
        # UTF-8), before any field could be told apart.
        message = "not JSON in UTF-8"
        body = {
            "error": "invalid_request",
            "message": f"body: {message}",
            "fields": [{"field": "body", "message": message}],
        }
        return JSONResponse(body, status_code=400, headers=headers)
    code = _CODES.get(err.status_code, "http_error")
    return error_response(err.status_code, code, str(err.detail), headers)


async def temporal_unavailable(request: Request, err: Exception) -> JSONResponse:
    """A Temporal call no handler expected to fail (the frontend unreachable, overloaded,
    timing out) is the documented 503, never a 500: the caller may retry, and partners
    redeliver."""
    assert isinstance(err, RPCError)
    log.warning("temporal_unavailable", path=request.url.path, status=err.status.name)
    return error_response(503, "unavailable", f"Temporal did not answer ({err.status.name}); retry")


def install_error_shape(app: FastAPI) -> None:
    """Answer every `HTTPException` of `app`, and every Temporal RPC failure a route did
    not handle, in the `ApiError` shape."""
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RPCError, temporal_unavailable)
