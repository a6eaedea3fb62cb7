"""`crossdock chaos`: the command (registered in crossdock/cli.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from crossdock.logs import configure_logging

if TYPE_CHECKING:
    from crossdock.chaos.driver import ChaosPlan
    from crossdock.config import Settings


def chaos(
    orders: Annotated[int, typer.Option(min=1, help="Orders to place.")] = 200,
    faults: Annotated[
        str, typer.Option(help="Sandbox fault profile: none, flaky, chaos, or a JSON file.")
    ] = "chaos",
    kill_worker_every: Annotated[
        float, typer.Option(min=0, help="SIGKILL the worker every this many seconds (0: never).")
    ] = 0,
    restart_temporal: Annotated[
        bool, typer.Option(help="Restart the dev server once, on its SQLite file.")
    ] = False,
    restart_sandbox: Annotated[
        bool, typer.Option(help="Restart the sandbox once, on its database.")
    ] = False,
    place_every: Annotated[float, typer.Option(min=0, help="Seconds between orders.")] = 0.5,
    seed: Annotated[int, typer.Option(help="Seeds the orders, buyers and operators.")] = 17,
    drain_timeout: Annotated[
        float, typer.Option(help="Longest wait, after the last order, for cases to close.")
    ] = 600.0,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where this run's databases and logs go (default: a new directory "
            "under CROSSDOCK_STATE_DIR/chaos)."
        ),
    ] = None,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the table here (default: in the state dir)."),
    ] = None,
) -> None:
    """Drive orders through the embedded stack under faults, kills and restarts; print the
    invariant table. Exits 1 on any violation."""
    from crossdock.chaos.driver import ChaosPlan

    settings, run_dir = _prepare(state_dir)
    plan = ChaosPlan(
        orders=orders,
        faults=faults,
        kill_worker_every=kill_worker_every or None,
        restart_temporal=restart_temporal,
        restart_sandbox=restart_sandbox,
        seed=seed,
        place_every_seconds=place_every,
        drain_timeout_seconds=drain_timeout,
    )
    raise typer.Exit(_run(plan, settings, run_dir, json_path))


def _prepare(state_dir: Path | None) -> tuple[Settings, Path]:
    """This run's settings and directory, once its ports are known to be free."""
    from crossdock.chaos.profile import chaos_settings
    from crossdock.config import get_settings

    base = get_settings()
    configure_logging(base.log_level, process="chaos")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    run_dir = state_dir or base.state_dir / "chaos" / stamp
    settings = chaos_settings(run_dir.resolve())
    _check_ports(settings)
    return settings, run_dir


def _check_ports(settings: Settings) -> None:
    """Exit 2, naming the setting to change, if a port the stack needs is taken."""
    from crossdock.runner import PortTaken, check_port_free

    host, port = settings.temporal_address.rsplit(":", 1)
    try:
        for what, h, p, setting in [
            ("Temporal", host, int(port), "CROSSDOCK_TEMPORAL_ADDRESS"),
            ("the Temporal UI", host, settings.temporal_ui_port, "CROSSDOCK_TEMPORAL_UI_PORT"),
            ("the sandbox", settings.sandbox_host, settings.sandbox_port, "CROSSDOCK_SANDBOX_PORT"),
            ("intake", settings.console_host, settings.console_port, "CROSSDOCK_CONSOLE_PORT"),
        ]:
            check_port_free(h, p, what, setting)
    except PortTaken as err:
        typer.secho(str(err), fg="red", err=True)
        raise typer.Exit(2) from None


def _run(plan: ChaosPlan, settings: Settings, run_dir: Path, json_path: Path | None) -> int:
    """Run the plan, print and write its invariant table; 1 on any violation."""
    from crossdock.chaos.driver import run_chaos
    from crossdock.chaos.table import render, write_json

    report = asyncio.run(run_chaos(plan, settings, run_dir / "logs"))
    render(report, Console())
    write_json(report, json_path or run_dir / "chaos.json")
    return 1 if report.violations else 0
