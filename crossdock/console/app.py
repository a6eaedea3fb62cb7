"""Mount the console (JSON API, web pages, static files) on the intake app, which
serves it from the same process (architecture §1) and holds the Temporal client."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from crossdock.audit.log import AuditLog
from crossdock.config import Settings
from crossdock.console import (
    api,
    bulk_routes,
    conversations,
    page_account,
    page_forms,
    page_inbox,
    page_lists,
    page_stuck,
    page_views,
    pages,
)
from crossdock.console.auth import SESSION_COOKIE, Sessions
from crossdock.console.errors import ConsoleError, console_error_response
from crossdock.console.guard import install_guard
from crossdock.console.readmodel_api import api as readmodel_api
from crossdock.console.readmodel_pages import pages as readmodel_pages
from crossdock.console.saved_views import SavedViews
from crossdock.console.state import ConsoleState
from crossdock.console.stuck import StuckPolicy, StuckWatch
from crossdock.console.web import LoginRequired, login_redirect
from crossdock.console.workday import Workday
from crossdock.identity import Accounts
from crossdock.identity.claims import signer_for
from crossdock.identity.throttle import LoginThrottle, ThrottlePolicy
from crossdock.keys import buyer_key
from crossdock.readmodel.reads import ReadModel
from crossdock.store import Database

STATIC = Path(__file__).parent / "static"


def install_console(app: FastAPI, settings: Settings, db: Database) -> None:
    """Add the console's routes to `app`; `app.state.client` must hold a Temporal client
    once the app has started (the intake lifespan opens it)."""
    policy = ThrottlePolicy(
        delay_seconds=settings.login_delay_seconds, lockout_after=settings.login_lockout_after
    )
    app.state.console = ConsoleState(
        accounts=Accounts(db),
        audit=AuditLog(db),
        signer=signer_for(settings),
        sessions=Sessions(db),
        throttle=LoginThrottle(db, policy),
        stuck=StuckWatch(
            StuckPolicy(
                task_attempts=settings.stuck_task_attempts,
                activity_attempts=settings.stuck_activity_attempts,
                scan_seconds=settings.stuck_scan_seconds,
                heal_within=timedelta(hours=settings.heal_within_hours)
                if settings.heal_within_hours
                else None,
            )
        ),
        workday=Workday(db),
        views=SavedViews(db),
    )
    # Search turns a typed buyer into the same keyed hash the read model's rows hold.
    app.state.readmodel = ReadModel.over(db, buyer_key(settings))
    install_guard(app, settings.console_origins, settings.temporal_ui_origins, SESSION_COOKIE)
    # Before the generic /api/{plural} and /console/{plural} routes, which would take them.
    app.include_router(conversations.api)
    app.include_router(conversations.pages)
    app.include_router(readmodel_api)
    app.include_router(readmodel_pages)
    app.include_router(bulk_routes.api)
    app.include_router(page_stuck.api)
    app.include_router(api.router)
    app.include_router(bulk_routes.pages)
    app.include_router(page_inbox.router)
    app.include_router(pages.router)
    app.include_router(page_forms.router)
    app.include_router(page_account.router)
    app.include_router(page_stuck.pages)
    app.include_router(page_views.router)
    # Last: its /console/{kind} would take any other page's path.
    app.include_router(page_lists.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(ConsoleError, console_error_response)
    app.add_exception_handler(LoginRequired, login_redirect)
