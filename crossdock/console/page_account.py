"""The operator's own account page: the language and time zone the console speaks to
them in (kept in their account, crossdock.console.workday)."""

from __future__ import annotations

import asyncio
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crossdock.console.locale import LocaleRefused, OperatorLocale
from crossdock.console.state import StateDep, account_scope
from crossdock.console.web import Operator, render, require

router = APIRouter(prefix="/console", include_in_schema=False)
# Offered first in the form; any IANA zone is accepted.
COMMON_ZONES = ["UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Europe/London", "Europe/Berlin"]
COMMON_ZONES += ["America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"]


@router.get("/account")
async def account_page(
    request: Request, who: Operator, state: StateDep, error: str = ""
) -> HTMLResponse:
    """The language and time zone form, and the channels and countries worked on."""
    operator = require(who)
    zones = COMMON_ZONES + sorted(available_timezones() - set(COMMON_ZONES))
    scope = await account_scope(state, operator.principal)
    return await render(request, "account.html", operator, zones=zones, error=error, scope=scope)


@router.post("/account")
async def save_account(
    request: Request,
    who: Operator,
    state: StateDep,
    language: Annotated[str, Form(max_length=16)],
    time_zone: Annotated[str, Form(max_length=64)],
) -> Response:
    """Keep the choice; the next page speaks it."""
    operator = require(who)
    try:
        chosen = OperatorLocale.checked(language, time_zone)
    except LocaleRefused as err:
        return await account_page(request, who, state, error=str(err))
    await asyncio.to_thread(state.workday.set_locale, operator.principal.id, chosen)
    return RedirectResponse("/console", status_code=303)
