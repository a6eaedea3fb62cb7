"""`crossdock bulk ACTION`: one action on many cases through the console API (each
case through its workflow's own update, validators and audit log), with a progress bar
and a table of what was accepted and what was refused, and why.

The cases: `--query orders?state=in_review&marketplace=ebay` (a list's filters, as the
API's list takes them), `--inbox` (everything waiting for a person), or ids one a line
on stdin (`... | crossdock bulk approve -`)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any
from urllib.parse import parse_qsl

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crossdock.cli_console import ConsoleApi, TokenOption, UrlOption, console, fail
from crossdock.console.i18n import translator

ACTIONS = ("approve", "reject", "hold", "resume", "cancel", "assign")
KINDS = ("orders", "returns", "disputes")


def bulk(
    action: Annotated[str, typer.Argument(help=f"One of: {', '.join(ACTIONS)}.")],
    stdin: Annotated[str, typer.Argument(help="'-': read case ids from stdin.")] = "",
    query: Annotated[
        str, typer.Option(help="A list and its filters: 'orders?state=in_review&marketplace=ebay'.")
    ] = "",
    inbox: Annotated[bool, typer.Option(help="Every case waiting for a person.")] = False,
    reason: Annotated[str, typer.Option(help="Why (required to reject or cancel).")] = "",
    assignee: Annotated[str, typer.Option(help="assign: to this account (default: you).")] = "",
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Approve, reject, hold, resume, cancel or assign many cases at once."""
    if action not in ACTIONS:
        fail(f"action {action!r} is not one of {', '.join(ACTIONS)}", 2)
    api = ConsoleApi(token, url)
    ids = _cases(api, stdin, query, inbox)
    if not ids:
        fail("no cases: give --query, --inbox or ids on stdin ('-')", 2)
    body = {"action": action, "workflow_ids": ids, "reason": reason, "assignee": assignee}
    _ = translator(api.locale().language)
    results = _run(api, body, len(ids))
    table = Table(title=f"{action}: {len(ids)}")
    for column in (_("Case"), _("Result"), _("Why")):
        table.add_column(column, overflow="fold")
    for result in sorted(results, key=lambda r: (r["outcome"], r["workflow_id"])):
        colour = "green" if result["outcome"] == "accepted" else "red"
        outcome = f"[{colour}]{_(result['outcome'])}[/{colour}]"
        table.add_row(result["workflow_id"], outcome, result["message"])
    console.print(table)
    refused = sum(1 for r in results if r["outcome"] != "accepted")
    counts = {"accepted": len(results) - refused, "refused": refused}
    console.print(_("{accepted} accepted, {refused} refused.").format(**counts))
    if refused:
        raise typer.Exit(1)


def _cases(api: ConsoleApi, stdin: str, query: str, inbox: bool) -> list[str]:
    ids: list[str] = []
    if stdin == "-":
        ids += [line.strip() for line in sys.stdin if line.strip()]
    if inbox:
        ids += [item["workflow_id"] for item in api.get("/api/inbox")]
    if query:
        kind, _, filters = query.partition("?")
        if kind not in KINDS:
            fail(f"--query {query!r} must start with one of {', '.join(KINDS)}", 2)
        ids += [row["workflow_id"] for row in api.get(f"/api/{kind}", **dict(parse_qsl(filters)))]
    return list(dict.fromkeys(ids))


def _run(api: ConsoleApi, body: dict[str, Any], total: int) -> list[dict[str, Any]]:
    """Send the request and read its stream, one case a line, moving the bar."""
    results: list[dict[str, Any]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(body["action"], total=total)
        try:
            with api.stream("/api/bulk", body) as response:
                for line in response.iter_lines():
                    if line.strip():
                        results.append(json.loads(line))
                        progress.advance(task)
        except httpx.HTTPError as err:
            fail(f"the console stopped answering after {len(results)} case(s): {err}", 1)
    return results
