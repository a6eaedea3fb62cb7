"""The timeline in the formats `crossdock audit` offers: a rich table, JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from enum import StrEnum

from rich.table import Table

from crossdock.audit.timeline import Kind, TimelineEntry

COLUMNS = ("at", "kind", "what", "outcome", "who", "role", "why", "data")
STYLES = {
    Kind.STATE: "bold cyan",
    Kind.DECISION: "bold magenta",
    Kind.PARTNER_CALL: "",
    Kind.WORKFLOW: "bold",
    Kind.FLAG: "yellow",
    Kind.SIGNAL: "blue",
    Kind.TIMER: "dim",
}


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def as_table(workflow_id: str, entries: Sequence[TimelineEntry]) -> Table:
    """One row per entry; failures and refusals in red."""
    table = Table("when (UTC)", "kind", "what", "outcome", "who", "why", title=workflow_id)
    for entry in entries:
        outcome = entry.outcome
        if outcome.startswith(("failed", "refused", "timed out")):
            outcome = f"[red]{outcome}[/red]"
        who = f"{entry.who} ({entry.role})" if entry.who else ""
        table.add_row(
            entry.at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            entry.kind.value,
            entry.what,
            outcome,
            who,
            entry.why,
            style=STYLES[entry.kind],
        )
    return table


def as_json(entries: Sequence[TimelineEntry]) -> str:
    """A JSON array with every decoded payload in `data`."""
    return json.dumps([entry.model_dump(mode="json") for entry in entries], indent=2)


def as_csv(entries: Sequence[TimelineEntry]) -> str:
    """CSV with a header; `data` holds the decoded payload as compact JSON."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for entry in entries:
        row = entry.model_dump(mode="json")
        row["data"] = json.dumps(row["data"], separators=(",", ":")) if row["data"] else ""
        writer.writerow([row[column] for column in COLUMNS])
    return out.getvalue()
