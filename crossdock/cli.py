"""`crossdock`: the command line for running and operating Crossdock."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer
import uvicorn

from crossdock.audit.cli import audit
from crossdock.chaos.cli import chaos
from crossdock.cli_bulk import bulk
from crossdock.cli_cases import app as cases_app
from crossdock.cli_console import (
    add_case_commands,
    cancel,
    case_commands,
    decide,
    hold,
    inbox,
    resume,
)
from crossdock.cli_deploy import app as deploy_app
from crossdock.cli_heal import heal_command
from crossdock.cli_readmodel import readmodel_app, report, search
from crossdock.cli_replay import replay
from crossdock.cli_worker import worker
from crossdock.config import Settings, get_settings
from crossdock.identity.cli import app as users_app
from crossdock.logs import configure_logging
from crossdock.store.cli import app as db_app
from starter.returns import app as returns_app

app = typer.Typer(help="Crossdock: durable cross-border e-commerce operations on Temporal.")
app.add_typer(returns_app, name="returns")
app.add_typer(cases_app, name="cases")
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
app.command("audit")(audit)
# The console API from a terminal: lists, details and decisions with an API token.
app.add_typer(case_commands("orders"), name="orders")
app.add_typer(case_commands("disputes"), name="disputes")
add_case_commands(returns_app, "returns")
app.command("inbox")(inbox)
app.command("decide")(decide)
app.command("cancel")(cancel)
app.command("hold")(hold)
app.command("resume")(resume)
app.command("bulk")(bulk)
# Orders under partner faults, worker kills and restarts, checked (docs/chaos.md).
app.command("chaos")(chaos)
# A case stuck on a nondeterminism, reset past it (docs/operations.md).
app.command("heal")(heal_command)
app.command("worker")(worker)
app.command("replay")(replay)
app.add_typer(deploy_app, name="deploy")
# The read model: rebuild it, search orders, report health and KPIs (docs/readmodel.md).
app.add_typer(readmodel_app, name="readmodel")
app.command("search")(search)
app.command("report")(report)
partners_app = typer.Typer(help="The partner APIs the settings point at.")
app.add_typer(partners_app, name="partners")


@partners_app.command("check")
def partners_check() -> None:
    """Run every read-only and test-mode partner call (never moves money with live keys)."""
    from crossdock.partners.check import check_partners, print_results

    results = asyncio.run(check_partners(get_settings()))
    print_results(results)
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


@app.command()
def run(
    demo: Annotated[bool, typer.Option(help="Compress time and place demo orders.")] = True,
) -> None:
    """Run everything on this machine: Temporal, sandbox, worker, intake, demo feed;
    a part that dies is restarted (docs/operations.md)."""
    from crossdock.runner import PortTaken, UnsafeBind
    from crossdock.runner import run as run_all

    settings = get_settings()
    configure_logging(settings.log_level, process="run")
    if not demo:
        settings = settings.model_copy(update={"demo_feed": False})
    try:
        code = run_all(settings, demo=demo)
    except (PortTaken, UnsafeBind) as err:
        typer.secho(str(err), fg="red", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def sandbox(
    faults: Annotated[
        str | None,
        typer.Option(
            help="Fault profile: none, flaky, chaos, or a JSON file (docs/sandbox.md). "
            "Default: CROSSDOCK_SANDBOX_FAULTS, else none."
        ),
    ] = None,
) -> None:
    """Serve the partner sandbox (Stripe, EasyPost, Amazon, eBay, customs, storefront, mail)."""
    from crossdock.sandbox.app import create_app
    from crossdock.sandbox.context import SandboxConfig
    from crossdock.sandbox.faults import load_profile

    settings = get_settings()
    configure_logging(settings.log_level, process="sandbox")
    try:
        profile = load_profile(faults or settings.sandbox_faults)
    except ValueError as err:  # also pydantic's ValidationError: names the bad field
        typer.secho(f"--faults: {err}", fg="red", err=True)
        raise typer.Exit(2) from None
    config = SandboxConfig.from_settings(settings, profile)
    uvicorn.run(
        create_app(config),
        host=settings.sandbox_host,
        port=settings.sandbox_port,
        log_config=None,
        access_log=False,
    )


@app.command()
def intake() -> None:
    """Serve intake: storefront checkout, partner webhooks, and the marketplace pollers."""
    from starter.app import create_intake_app

    settings = get_settings()
    configure_logging(settings.log_level, process="intake")
    refuse_or_exit(settings)
    from crossdock.observability.tracing import start_tracing

    start_tracing(settings, "crossdock-console")
    uvicorn.run(
        create_intake_app(settings),
        host=settings.console_host,
        port=settings.console_port,
        log_config=None,
        access_log=False,
    )


def refuse_or_exit(settings: Settings) -> None:
    """Exit 2 naming each wrong setting when these must not run (crossdock/startup.py)."""
    from crossdock.startup import UnsafeSettings, refuse_unsafe_settings

    try:
        refuse_unsafe_settings(settings)
    except UnsafeSettings as err:
        typer.secho(str(err), fg="red", err=True)
        raise typer.Exit(2) from None


@app.command("demo-feed")
def demo_feed() -> None:
    """Keep placing realistic cross-border orders on the sandbox channels."""
    settings = get_settings()
    configure_logging(settings.log_level, process="demo-feed")
    try:
        asyncio.run(_feed(settings))
    except KeyboardInterrupt:
        pass


async def _feed(settings: Settings) -> None:
    """New orders, and the operator, buyers and partners acting on what they become."""
    from crossdock.audit.log import AuditLog
    from crossdock.demo import run_feed
    from crossdock.demo_operator import DemoOperator
    from crossdock.identity.claims import signer_for
    from crossdock.store.cli import migrated
    from crossdock.temporal import connect

    operator = DemoOperator(
        await connect(settings),
        seed=settings.demo_seed,
        signer=signer_for(settings),
        audit=AuditLog(migrated()),
    )
    await asyncio.gather(
        run_feed(
            settings.sandbox_url,
            settings.demo_orders_per_minute,
            settings.demo_seed,
            timedelta(seconds=settings.demo_deliver_within_seconds),
        ),
        operator.run(),
        *await _case_demos(settings),
    )


async def _case_demos(settings: Settings) -> list[Coroutine[Any, Any, None]]:
    """The demo's disputes, returns and buyer messages, each on its own client."""
    from crossdock.audit.log import AuditLog
    from crossdock.demo_buyers import DemoBuyers
    from crossdock.demo_disputes import DemoDisputes
    from crossdock.demo_returns import DemoReturns
    from crossdock.identity.claims import signer_for
    from crossdock.store.cli import migrated
    from crossdock.temporal import connect

    return [
        DemoDisputes(
            await connect(settings),
            settings.sandbox_url,
            seed=settings.demo_seed,
            signer=signer_for(settings),
        ).run(),
        DemoReturns(
            await connect(settings),
            settings,
            seed=settings.demo_seed,
            signer=signer_for(settings),
        ).run(),
        DemoBuyers(
            await connect(settings),
            settings,
            seed=settings.demo_seed,
            signer=signer_for(settings),
            audit=AuditLog(migrated()),
        ).run(),
    ]


class Diagram(StrEnum):
    order = "order"
    return_ = "return"
    dispute = "dispute"


@app.command()
def diagram(lifecycle: Diagram) -> None:
    """Print a lifecycle's state table as a Mermaid diagram."""
    from crossdock.models.dispute_states import DISPUTE_LIFECYCLE
    from crossdock.models.order_states import ORDER_LIFECYCLE
    from crossdock.models.return_states import RETURN_LIFECYCLE

    if lifecycle is Diagram.dispute:
        typer.echo(DISPUTE_LIFECYCLE.mermaid())
    elif lifecycle is Diagram.return_:
        typer.echo(RETURN_LIFECYCLE.mermaid())
    else:
        typer.echo(ORDER_LIFECYCLE.mermaid())


if __name__ == "__main__":
    app()
