"""Compensations registered after each side effect and run in reverse on failure."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.exceptions import ActivityError

Compensation = Callable[[], Awaitable[object]]


@dataclass
class Saga:
    steps: list[tuple[str, Compensation]] = field(default_factory=list)

    def add(self, name: str, compensation: Compensation) -> None:
        self.steps.append((name, compensation))

    def clear(self) -> None:
        """Forget compensations once the side effects are final (goods have shipped)."""
        self.steps.clear()

    async def compensate(self) -> tuple[list[str], list[str]]:
        """Undo every registered step, newest first.

        Returns the names undone and, separately, the undos the partner refused (with
        why): those need a person, but must not stop the remaining undos, nor fail the
        workflow (which would leave everything after them booked).
        """
        done: list[str] = []
        refused: list[str] = []
        while self.steps:
            name, undo = self.steps.pop()
            workflow.logger.info("compensating", extra={"step": name})
            try:
                await _to_the_end(undo())
            except ActivityError as err:
                refused.append(f"{name} ({err.cause or err})")
                continue
            done.append(name)
        return done, refused


async def _to_the_end(undo: Awaitable[object]) -> object:
    """An undo runs to its end even if the workflow is cancelled meanwhile: stopping
    half-way would leave something booked for an order that will not ship."""
    task = asyncio.ensure_future(undo)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            workflow.logger.info("cancellation requested during an undo: finishing it")
