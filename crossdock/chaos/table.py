"""The invariant table as a person reads it (a terminal table, violations by workflow
id) and as a machine reads it (JSON)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from crossdock.chaos.driver import ChaosReport
from crossdock.chaos.invariants import by_workflow


def render(report: ChaosReport, console: Console) -> None:
    """Print the table, the faults and chaos events, then every violation."""
    plan = report.plan
    title = (
        f"Chaos run: {plan.orders} orders, faults {plan.faults!r}, "
        f"{len(report.events)} chaos events, {report.seconds:.0f} s"
    )
    table = Table(title=title)
    for column in ("invariant", "count", "violations"):
        table.add_column(column, justify="left" if column == "invariant" else "right")
    for row in report.rows:
        bad = len(row.violations)
        mark = "-" if not row.checked else (f"[red]{bad}[/red]" if bad else "[green]0[/green]")
        table.add_row(row.name, str(row.count), mark)
    console.print(table)
    faults = ", ".join(f"{kind} {n}" for kind, n in sorted(report.faults.items()))
    console.print(f"faults injected ({sum(report.faults.values())}): {faults or 'none'}")
    events = ", ".join(f"{e.what} at {e.at:.0f} s ({e.took:.0f} s)" for e in report.events)
    console.print(f"chaos events: {events or 'none'}")
    cases = report.evidence.cases.values() if report.evidence else []
    healed = sorted(c.workflow_id for c in cases if c.reset)
    if healed:
        console.print(
            f"healed past a divergence (reset by the console's scan): {', '.join(healed)}"
        )
    if not report.drained:
        console.print("[yellow]the drain timed out: running cases are counted as stuck[/yellow]")
    for workflow_id, found in by_workflow(report.rows).items():
        console.print(f"[red]{workflow_id}[/red]")
        for violation in found:
            console.print(f"  {violation}")
    verdict = "[green]no violations[/green]" if not report.violations else "[red]violations[/red]"
    console.print(f"{verdict}: {report.violations}; logs in {report.log_dir}")


def write_json(report: ChaosReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_json(), indent=2, default=str) + "\n")
