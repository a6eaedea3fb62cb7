"""`crossdock heal`: reset a case stuck on a nondeterminism past the task that recorded
it (crossdock/divergence.py), after showing what runs again. It talks to Temporal
directly, as the runbook's `temporal workflow reset` does: for whoever runs the cluster."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from temporalio.service import RPCError, RPCStatusCode

from crossdock.config import get_settings
from crossdock.divergence import Divergence, find_divergence, heal
from crossdock.temporal import connect

_out = Console()


def heal_command(
    workflow_id: Annotated[str, typer.Argument(help="The stuck case, e.g. order-ebay-12-…")],
    yes: Annotated[bool, typer.Option("--yes", help="Reset without asking.")] = False,
    by: Annotated[str, typer.Option(help="Who heals, for the reset's reason.")] = "cli",
) -> None:
    """Reset a case whose history no longer replays to the task before the first
    mismatch, reapplying the signals and updates (decisions) it received since."""
    asyncio.run(_heal(workflow_id, yes, by))


async def _heal(workflow_id: str, yes: bool, by: str) -> None:
    client = await connect(get_settings())
    try:
        found = await find_divergence(client, workflow_id)
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        _out.print(f"No workflow {workflow_id} on {client.service_client.config.target_host}.")
        raise typer.Exit(1) from err
    if found is None:
        _out.print(f"{workflow_id} replays (or has closed): nothing to heal.")
        return
    _out.print(_table(workflow_id, found[1]))
    if not yes and not typer.confirm("Reset it there?"):
        raise typer.Exit(1)
    healed = await heal(client, workflow_id, by, found)
    if healed is None:
        _out.print(f"{workflow_id} changed meanwhile: nothing was reset.")
        raise typer.Exit(1)
    _out.print(
        f"{workflow_id} reset: run {healed.new_run_id} goes on from task {found[1].reset_to}."
    )


def _table(workflow_id: str, divergence: Divergence) -> Table:
    age = datetime.now(UTC) - divergence.reset_to_time
    table = Table(title=f"{workflow_id} no longer replays", show_header=False)
    table.add_row("first mismatch", f"event {divergence.mismatched_event}")
    table.add_row("recorded by", f"the task completed at event {divergence.recorded_by_task}")
    table.add_row("resets to", f"event {divergence.reset_to}, {_hours(age)} ago")
    table.add_row("runs again", ", ".join(divergence.runs_again) or "no activity")
    table.add_row("error", divergence.message[:300])
    return table


def _hours(age: timedelta) -> str:
    seconds = age.total_seconds()
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"
