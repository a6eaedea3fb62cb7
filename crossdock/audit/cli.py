"""`crossdock audit WORKFLOW_ID` and `crossdock audit verify`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from crossdock.audit.log import AuditLog
from crossdock.audit.render import Format, as_csv, as_json, as_table
from crossdock.audit.timeline import TimelineEntry, workflow_timeline
from crossdock.config import get_settings
from crossdock.store.cli import migrated

VERIFY = "verify"
console = Console()


def audit(
    target: Annotated[
        str, typer.Argument(help="A workflow id to show, or 'verify' to check the audit log.")
    ],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    anchor: Annotated[
        str,
        typer.Option(help="With verify: SEQ:HASH of a head recorded earlier, to check it holds."),
    ] = "",
) -> None:
    """Who did what, when and why: a workflow's history as a timeline, or `verify` the
    hash-chained audit log of decision attempts."""
    if target == VERIFY:
        verify(_anchor(anchor))
        return
    show(target, format)


def show(workflow_id: str, format: Format) -> None:
    """Print the timeline of `workflow_id` (history + refused attempts) in `format`."""
    from crossdock.temporal import connect

    settings = get_settings()
    db = migrated()
    attempts = AuditLog(db).entries(workflow_id)
    db.dispose()

    async def read() -> list[TimelineEntry]:
        client = await connect(settings)
        return await workflow_timeline(client, workflow_id, attempts)

    try:
        entries = asyncio.run(read())
    except Exception as err:
        typer.secho(f"cannot read {workflow_id!r}: {err}", fg="red", err=True)
        raise typer.Exit(2) from None
    if format is Format.json:
        typer.echo(as_json(entries))
    elif format is Format.csv:
        typer.echo(as_csv(entries), nl=False)
    else:
        console.print(as_table(workflow_id, entries))


def verify(anchor: tuple[int, str] | None) -> None:
    """Check the audit log's chain; exit 1 when anything was tampered with."""
    db = migrated()
    report = AuditLog(db).verify(anchor)
    db.dispose()
    for problem in report.problems:
        console.print(f"[red]✗[/red] {problem}")
    if not report.intact:
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/green] audit log intact: {report.entries} entries, "
        f"head {report.head_seq}:{report.head_hash}"
    )


def _anchor(text: str) -> tuple[int, str] | None:
    if not text:
        return None
    seq, sep, digest = text.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        typer.secho(f"--anchor {text!r} must read SEQ:HASH (64 hex digits)", fg="red", err=True)
        raise typer.Exit(2)
    return int(seq), digest
