"""`crossdock deploy`: move new cases between worker versions (crossdock/versioning.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from crossdock.config import get_settings
from crossdock.versioning import Deployment, build_id

T = TypeVar("T")
app = typer.Typer(help="Worker Deployments: ramp, switch, drain and retire versions.")
Build = Annotated[str, typer.Argument(help="The build id (`crossdock deploy build-id`).")]


def _on_deployment(act: Callable[[Deployment], Awaitable[T]]) -> T:
    from crossdock.temporal import connect

    settings = get_settings()
    if not settings.worker_deployment:
        typer.secho("CROSSDOCK_WORKER_DEPLOYMENT is unset: workers are unversioned", err=True)
        raise typer.Exit(2)

    async def run() -> T:
        client = await connect(settings)
        return await act(Deployment(client, settings.worker_deployment))

    return asyncio.run(run())


@app.command("build-id")
def show_build_id() -> None:
    """This checkout's build id (package version + git commit)."""
    typer.echo(build_id(get_settings()))


@app.command()
def ramp(build: Build, percent: Annotated[float, typer.Argument(min=0, max=100)]) -> None:
    """Send a share of new cases to `build`."""
    _on_deployment(lambda d: d.ramp(build, percent))


@app.command()
def current(build: Build) -> None:
    """Send every new case to `build`; running pinned cases stay where they are."""
    _on_deployment(lambda d: d.make_current(build))


@app.command()
def drainage(build: Build) -> None:
    """Whether open cases are still pinned to `build` (draining) or none (drained)."""
    typer.echo(_on_deployment(lambda d: d.drainage(build)))


@app.command()
def retire(build: Build) -> None:
    """Forget a drained version whose workers are stopped."""
    _on_deployment(lambda d: d.retire(build))
