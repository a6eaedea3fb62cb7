"""`crossdock replay`: replay live histories against this checkout's workflow code.

Run before a deploy (docs/production.md, "Deploying workflow changes"): a change that
is not behind `workflow.patched` fails here, on a copy of the history, instead of on a
running order after the new workers start. The recorded corpus in tests/histories/
covers the paths tests take; this covers the paths production took.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

import typer
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from crossdock.config import Settings, get_settings
from crossdock.workflow_sandbox import RUNNER

# worker.py's WORKFLOWS (not imported here: worker.py sits beside the packages, and
# every other command must load without it).
TYPES = (
    "OrderWorkflow",
    "MarketplacePollWorkflow",
    "ReturnWorkflow",
    "ReturnRequestPollWorkflow",
    "DisputeWorkflow",
    "DisputePollWorkflow",
    "BuyerCaseWorkflow",
    "HealthCheckWorkflow",
    "BuyerMessagePollWorkflow",
)
DEFAULT_QUERY = f"WorkflowType IN ({', '.join(map(repr, TYPES))}) AND ExecutionStatus = 'Running'"


@dataclass
class ReplayReport:
    replayed: int = 0
    # Run id → why its history does not replay on this code.
    failures: dict[str, str] = field(default_factory=dict)


async def replay_live(client: Client, settings: Settings, query: str, limit: int) -> ReplayReport:
    """Replay up to `limit` histories matching `query` with this worker's workflows,
    runner, converter (payload keys) and interceptors."""
    from worker import WORKFLOWS, principal_verification

    replayer = Replayer(
        workflows=WORKFLOWS,
        namespace=client.namespace,
        data_converter=client.data_converter,
        workflow_runner=RUNNER,
        interceptors=principal_verification(settings),
    )
    report = ReplayReport()

    async def counted() -> AsyncIterator[WorkflowHistory]:
        async for history in client.list_workflows(query, limit=limit).map_histories():
            report.replayed += 1
            yield history

    results = await replayer.replay_workflows(counted(), raise_on_replay_failure=False)
    report.failures = {
        run: f"{type(e).__name__}: {e}" for run, e in results.replay_failures.items()
    }
    return report


def replay(
    namespace: Annotated[
        str | None, typer.Option(help="Default: CROSSDOCK_TEMPORAL_NAMESPACE.")
    ] = None,
    query: Annotated[
        str, typer.Option(help="Visibility query choosing the histories.")
    ] = DEFAULT_QUERY,
    limit: Annotated[int, typer.Option(min=1)] = 500,
) -> None:
    """Replay live histories against the current code; exit 1 if any would not replay."""
    from crossdock.temporal import connect

    settings = get_settings()
    if namespace:
        settings = settings.model_copy(update={"temporal_namespace": namespace})

    async def run() -> ReplayReport:
        return await replay_live(await connect(settings), settings, query, limit)

    report = asyncio.run(run())
    for run_id, why in sorted(report.failures.items()):
        typer.secho(f"{run_id}: {why}", fg="red", err=True)
    typer.echo(f"{report.replayed} histories replayed, {len(report.failures)} failed")
    raise typer.Exit(1 if report.failures else 0)
