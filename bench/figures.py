"""Figures of one bench run: every repeat kept, reported as median and spread, and as a
ratio to the baseline figure measured in the same run when there is one."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Figure:
    name: str
    unit: str
    values: list[float] = field(default_factory=list)
    baseline: str = ""  # the name of the figure this one is compared with
    target: str = ""  # what the issue asks, as text (never asserted)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> float:
        """(max - min) / median: how much the repeats disagree."""
        if len(self.values) < 2 or not self.median:
            return 0.0
        return (max(self.values) - min(self.values)) / abs(self.median)


@dataclass
class Figures:
    by_name: dict[str, Figure] = field(default_factory=dict)

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        baseline: str = "",
        target: str = "",
        note: str = "",
    ) -> Figure:
        """Record one measurement of `name` (created on first use, described then)."""
        figure = self.by_name.setdefault(
            name, Figure(name, unit, baseline=baseline, target=target, note=note)
        )
        figure.values.append(value)
        return figure

    def ratio(self, figure: Figure) -> float | None:
        base = self.by_name.get(figure.baseline)
        if base is None or not base.values or not base.median:
            return None
        return figure.median / base.median

    def as_json(self) -> dict[str, Any]:
        return {
            f.name: {
                "unit": f.unit,
                "values": [round(v, 4) for v in f.values],
                "median": round(f.median, 4),
                "spread": round(f.spread, 3),
                "baseline": f.baseline or None,
                "ratio": None if (r := self.ratio(f)) is None else round(r, 3),
                "target": f.target or None,
                "note": f.note or None,
            }
            for f in self.by_name.values()
        }


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0..100), nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]
