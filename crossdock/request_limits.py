"""Request-size limits and bad-body answers for every HTTP entry point of the intake
process (storefront checkout, partner webhooks, console API and pages, codec).

`install_request_limits(app, settings)` puts a pure ASGI middleware in front of the whole
app, mounted sub-apps included: a body over the limit is answered 413 before it is read
(by its Content-Length) or as soon as the bytes received pass the limit (chunked bodies),
so nobody can make the process buffer 8 MB to refuse it afterwards. It also answers every
malformed body 422 naming the field, in the console's error shape
`{"error": code, "message": ..., "fields": [{"field": ..., "message": ...}]}`, never
echoing the input back (FastAPI's default answer quotes it whole, personal data and all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossdock.config import Settings

log = structlog.get_logger(__name__)

# How many refused fields one answer lists (a body can be wrong in thousands of places).
MAX_FIELDS = 20


class BodyTooLarge(HTTPException):
    """The request body passed the limit. An HTTPException, so FastAPI's body reader lets
    it through instead of turning it into "There was an error parsing the body"."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")
        self.limit = limit


def too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {"error": "too_large", "message": f"request body larger than {limit} bytes"},
        status_code=413,
    )


class RequestSizeLimit:
    """Refuse bodies over `max_bytes` (or the limit of the longest matching path prefix
    in `by_prefix`, e.g. the codec's larger one) with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int, by_prefix: Mapping[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.by_prefix = sorted(by_prefix.items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope["headers"])
        if declared is not None and declared > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            # Raised where no handler answers it (a sub-app's own body reader).
            if started:
                raise
            await too_large(limit)(scope, receive, send)


def _content_length(headers: Sequence[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it; counting bytes still applies
    return None


def _field(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    context = error.get("ctx") or {}
    if error.get("type") == "json_invalid" and "error" in context:
        message = f"{message}: {context['error']}"
    return message


def invalid(errors: Sequence[Mapping[str, Any]], prefix: tuple[str, ...] = ()) -> JSONResponse:
    """422 naming each refused field (at most MAX_FIELDS), without the input."""
    fields = [
        {"field": _field((*prefix, *error.get("loc", ()))), "message": _message(error)}
        for error in errors[:MAX_FIELDS]
    ]
    more = f" (and {len(errors) - MAX_FIELDS} more)" if len(errors) > MAX_FIELDS else ""
    text = "; ".join(f"{field['field']}: {field['message']}" for field in fields) + more
    return JSONResponse(
        {"error": "invalid_request", "message": text, "fields": fields}, status_code=422
    )


async def request_invalid(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    return invalid(err.errors())


async def body_invalid(request: Request, err: Exception) -> JSONResponse:
    """A handler validated part of the body itself (the checkout door's windows, a
    webhook's event) and it did not hold: the caller's data, named from `body`."""
    assert isinstance(err, ValidationError)
    log.info("request_body_refused", path=request.url.path, errors=err.error_count())
    return invalid(err.errors(include_input=False), prefix=("body",))


async def body_too_large(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, BodyTooLarge)
    return too_large(err.limit)


def install_request_limits(app: FastAPI, settings: Settings) -> None:
    """Bound every request to `app` (mounts included) and answer bad bodies 4xx."""
    app.add_middleware(
        RequestSizeLimit,
        max_bytes=settings.max_request_bytes,
        by_prefix={"/codec": settings.max_codec_request_bytes},
    )
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(ValidationError, body_invalid)
    app.add_exception_handler(BodyTooLarge, body_too_large)
