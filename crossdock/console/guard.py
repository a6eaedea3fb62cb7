"""What every console, API and codec response and request goes through.

- Origin check: a state-changing request (POST, PUT, PATCH, DELETE) to `/console`,
  `/api` or `/codec` whose `Origin` (or, without one, `Referer`) is not the console's
  own origin, a configured one (`CROSSDOCK_CONSOLE_ORIGINS`, behind a proxy) or, for
  `/codec`, the Temporal UI's, is refused with 403. SameSite=Strict cookies do not stop
  a page on another port of the same host: that is the same site. A request naming
  neither header is refused when it carries the session cookie (a browser always sends
  Origin on a form post); API clients with a bearer token send neither and pass.
- Security headers: CSP (`frame-ancestors 'none'`), `X-Frame-Options: DENY`, nosniff,
  `Referrer-Policy: same-origin`, and `Cache-Control: no-store` on everything but the
  static files, so no page with personal data stays in a shared cache or a back button.
- CSRF tokens (`csrf_matches`): every console form carries its session's token; the
  login form, before any session, a token also set in a short-lived cookie.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

GUARDED = ("/console", "/api", "/codec")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
STATIC = "/console/static/"
# The Swagger page loads its script from a CDN; it gets every header but the CSP.
DOCS = ("/docs", "/redoc")

Next = Callable[[Request], Awaitable[Response]]


def install_guard(
    app: FastAPI, origins: Sequence[str], codec_origins: Sequence[str], session_cookie: str
) -> None:
    """Add the origin check and the security headers to `app`."""
    allowed = frozenset(_origin(o) for o in origins)
    codec_allowed = allowed | frozenset(_origin(o) for o in codec_origins)

    @app.middleware("http")
    async def guard(request: Request, call_next: Next) -> Response:
        path = request.url.path
        if request.method in STATE_CHANGING and path.startswith(GUARDED):
            extra = codec_allowed if path.startswith("/codec") else allowed
            refusal = origin_refusal(request, extra, session_cookie)
            if refusal:
                response: Response = JSONResponse(
                    {"error": "forbidden", "message": refusal}, status_code=403
                )
                return _secured(response, path)
        return _secured(await call_next(request), path)


def origin_refusal(request: Request, allowed: frozenset[str], session_cookie: str) -> str:
    """Why this state-changing request's origin is not accepted; empty when it is."""
    own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    origin = request.headers.get("origin")
    if origin is None and request.headers.get("referer"):
        origin = _origin(request.headers["referer"])
    if origin is None:
        if session_cookie in request.cookies:
            return "a browser request without Origin or Referer is not accepted"
        return ""
    if origin.lower() == own or _origin(origin) in allowed:
        return ""
    return (
        f"requests from {origin} are not accepted here (the console's origin is {own}; "
        "behind a proxy, list the public origin in CROSSDOCK_CONSOLE_ORIGINS)"
    )


def csrf_matches(sent: str, expected: str) -> bool:
    """Whether a form's CSRF token is the expected one (constant time; empty never is)."""
    return bool(sent) and bool(expected) and hmac.compare_digest(sent, expected)


def _secured(response: Response, path: str) -> Response:
    for name, value in HEADERS.items():
        if name == "Content-Security-Policy" and path.startswith(DOCS):
            continue
        response.headers.setdefault(name, value)
    if not path.startswith(STATIC):
        response.headers["Cache-Control"] = "no-store"
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return url.strip().lower()
    return f"{parts.scheme}://{parts.netloc}".lower()
