"""What the console's web pages share: the templates, the logged-in operator (with the
CSRF check of form posts), and rendering in the operator's language and time zone."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from crossdock.console.auth import web_session
from crossdock.console.errors import ConsoleError
from crossdock.console.guard import csrf_matches
from crossdock.console.i18n import translator
from crossdock.console.kinds import SPECS
from crossdock.console.locale import LANGUAGES, NONE, OperatorLocale, overdue
from crossdock.console.state import console_state
from crossdock.identity.sessions import WebSession

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


class LoginRequired(Exception):
    """No valid session: the page sends the browser to the login form."""


async def checked_session(request: Request) -> WebSession | None:
    """The page's session; on a form post also its CSRF token, or a 403."""
    session = await web_session(request)
    if session is not None and request.method == "POST":
        sent = (await request.form()).get("csrf", "")
        if not csrf_matches(sent if isinstance(sent, str) else "", session.csrf):
            raise ConsoleError(403, "forbidden", "the form's CSRF token is missing or stale")
    return session


Operator = Annotated[WebSession | None, Depends(checked_session)]


def require(who: WebSession | None) -> WebSession:
    """The logged-in operator, or the login form."""
    if who is None:
        raise LoginRequired
    return who


async def locale_of(request: Request, who: WebSession | None) -> OperatorLocale:
    """The operator's language and time zone (English and UTC before login)."""
    if who is None:
        return OperatorLocale()
    return await asyncio.to_thread(console_state(request).workday.locale, who.principal.id)


async def render(
    request: Request, name: str, who: WebSession | None, **context: Any
) -> HTMLResponse:
    """The template `name` for `who`, in their language and time zone."""
    loc = await locale_of(request, who)
    principal = who.principal if who else None
    helpers = {
        "_": translator(loc.language),
        "money": loc.money,
        "when": lambda at: _time(loc, at),
        "left": loc.left,
        "overdue": overdue,
        "locale": loc,
        "languages": LANGUAGES,
        "html_lang": loc.language.replace("_", "-"),
    }
    values = {"who": principal, "csrf": who.csrf if who else "", "kinds": SPECS.values()}
    return templates.TemplateResponse(request, name, {**values, **helpers, **context})


def _time(loc: OperatorLocale, at: datetime | None) -> Markup:
    if at is None:
        return Markup(NONE)
    return Markup('<time datetime="{}">{}</time>').format(at.isoformat(), escape(loc.when(at)))


def back(workflow_id: str, **flash: str) -> RedirectResponse:
    """To the case's page with a message or an error at the top."""
    query = urlencode({k: v for k, v in flash.items() if v})
    return RedirectResponse(f"/console/cases/{quote(workflow_id)}?{query}", status_code=303)


async def login_redirect(request: Request, err: Exception) -> RedirectResponse:
    """Send a browser without a session to the login form."""
    return RedirectResponse("/console/login", status_code=303)
