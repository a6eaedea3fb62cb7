"""Lifecycles as data: a state enum, a transition table, a timeline.

A workflow changes state only through `Lifecycle.move`, which refuses a move the table
does not allow. An illegal move raises `IllegalTransition`, a plain exception rather
than `ApplicationError`, so it fails the *workflow task* (Temporal retries the task and
the workflow stays put, visibly stuck) instead of failing the workflow: it is a bug to
fix and redeploy, never a silent jump.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel

S = TypeVar("S", bound=StrEnum)


class TimelineEntry(BaseModel):
    at: datetime
    event: str  # snake_case, e.g. "moved", "tracking_update", "label_bought"
    state: str  # the state after the event
    detail: str = ""


class IllegalTransition(RuntimeError):
    """A move the lifecycle's table does not allow: a bug, not a business outcome."""


class Lifecycle(Generic[S]):
    """A state machine kept as data: which states may follow which."""

    def __init__(self, name: str, initial: S, table: Mapping[S, frozenset[S]]) -> None:
        self.name = name
        self.initial = initial
        self.table = table

    def allowed(self, current: S, target: S) -> bool:
        return target in self.table.get(current, frozenset())

    def check(self, current: S, target: S) -> None:
        """Raise `IllegalTransition` unless `current → target` is in the table."""
        if not self.allowed(current, target):
            legal = ", ".join(sorted(self.table.get(current, frozenset()))) or "none (terminal)"
            raise IllegalTransition(
                f"{self.name}: {current} → {target} is not allowed; from {current}: {legal}"
            )

    def terminal(self, state: S) -> bool:
        return not self.table.get(state)

    def mermaid(self) -> str:
        """The table as a Mermaid state diagram."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for source, targets in self.table.items():
            lines.extend(f"    {source} --> {target}" for target in sorted(targets))
            if not targets:
                lines.append(f"    {source} --> [*]")
        return "\n".join(lines)
