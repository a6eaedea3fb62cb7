"""Compensations registered after each side effect and run in reverse on failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from temporalio import workflow

Compensation = Callable[[], Awaitable[object]]


@dataclass
class Saga:
    steps: list[tuple[str, Compensation]] = field(default_factory=list)

    def add(self, name: str, compensation: Compensation) -> None:
        self.steps.append((name, compensation))

    def clear(self) -> None:
        """Forget compensations once the side effects are final (goods have shipped)."""
        self.steps.clear()

    async def compensate(self) -> list[str]:
        """Undo every registered step, newest first; return their names."""
        done = []
        while self.steps:
            name, undo = self.steps.pop()
            workflow.logger.info("compensating", extra={"step": name})
            await undo()
            done.append(name)
        return done
