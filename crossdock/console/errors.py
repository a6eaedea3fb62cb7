"""Console errors: each becomes a JSON answer `{"error": code, "message": ...}`."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse


class ConsoleError(Exception):
    """Something the console cannot do for this request; the message says why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str) -> ConsoleError:
    return ConsoleError(404, "not_found", what)


def bad_request(message: str) -> ConsoleError:
    return ConsoleError(400, "bad_request", message)


def refused(message: str) -> ConsoleError:
    """The workflow refused the action (its validator's message)."""
    return ConsoleError(409, "refused", message)


async def console_error_response(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, ConsoleError)
    headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
    return JSONResponse(
        {"error": err.code, "message": err.message}, status_code=err.status, headers=headers
    )
