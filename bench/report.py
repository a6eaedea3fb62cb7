"""The bench's table on the terminal and its JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.figures import Figures

RESULTS = Path(__file__).parent / "results" / "latest.json"


def table(figures: Figures, title: str) -> Table:
    shown = Table(title=title)
    for column in ("figure", "median", "unit", "spread", "n", "ratio", "baseline", "target"):
        shown.add_column(column, justify="left" if column in {"figure", "baseline"} else "right")
    for figure in figures.by_name.values():
        ratio = figures.ratio(figure)
        shown.add_row(
            figure.name,
            f"{figure.median:.1f}" if figure.median >= 10 else f"{figure.median:.2f}",
            figure.unit,
            f"{figure.spread:.0%}",
            str(len(figure.values)),
            "" if ratio is None else f"{ratio:.2f}x",
            figure.baseline,
            figure.target,
        )
    return shown


def markdown(figures: Figures) -> str:
    """The table as Markdown, for bench/README.md."""
    lines = [
        "| figure | median | unit | spread | n | ratio | target |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for f in figures.by_name.values():
        ratio = figures.ratio(f)
        shown = "" if ratio is None else f"{ratio:.2f}x"
        lines.append(
            f"| {f.name} | {f.median:.2f} | {f.unit} | {f.spread:.0%} | {len(f.values)} "
            f"| {shown} | {f.target} |"
        )
    return "\n".join(lines)


def write(figures: Figures, run: dict[str, Any], path: Path = RESULTS) -> None:
    """Print the table and write `path` (figures, machine, details of each scenario)."""
    console = Console(width=160)
    console.print(table(figures, run["title"]))
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({**run, "figures": figures.as_json()}, indent=2, default=str))
    (path.with_suffix(".md")).write_text(markdown(figures) + "\n")
    console.print(f"written to {path}")
