"""Routes that answer errors in their partner's own shape, not FastAPI's.

Exception handlers belong to the app, and the app is shared by every simulated partner;
a route class is the router-level hook FastAPI offers, so each partner's router renders
its refusals (and request validation failures) the way the real partner would.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


class Refusal(Exception):
    """Raised by a handler or dependency to answer with `response` (a partner error)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def first_problem(error: RequestValidationError) -> tuple[str, str]:
    """(field path, message) of the first validation problem, e.g. ("items[0].sku", ...)."""
    problems = error.errors()
    if not problems:
        return "body", "invalid request"
    problem = problems[0]
    parts = [str(p) for p in problem.get("loc", ()) if p not in ("body", "query", "path")]
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    message = str(problem.get("msg", "invalid value")).removeprefix("Value error, ")
    return path or "body", message


def partner_route(render_invalid: Callable[[str, str], Response]) -> type[APIRoute]:
    """An APIRoute class turning `Refusal` and validation errors into partner responses.

    Args:
        render_invalid: Renders (field, message) of a request that failed validation.
    """

    class PartnerRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    return await handler(request)
                except Refusal as refusal:
                    return refusal.response
                except RequestValidationError as error:
                    return render_invalid(*first_problem(error))

            return handle

    return PartnerRoute
