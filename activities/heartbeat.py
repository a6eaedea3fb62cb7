"""Heartbeats for every activity, so a dead worker's work is retried in seconds.

Without heartbeats the server only notices a crashed worker's activity when its
start-to-close timeout (30 s) expires. A worker interceptor heartbeats every few seconds
while any activity runs, and workflows schedule partner activities with a heartbeat
timeout (workflows/options.py): a worker that stops heartbeating is presumed dead after
that timeout, and the activity runs again elsewhere with the same idempotency key.
Short activities finish before the first beat and cost nothing extra.

An activity that records its progress as heartbeat details (so a retry resumes where it
stopped) reports it with `beat(...)`: the interceptor's own beats then repeat those
details instead of replacing them with none.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextvars import ContextVar
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

BEAT_EVERY_SECONDS = 2.0
# The details last reported by the running activity, shared with its beating task.
_latest: ContextVar[list[Any] | None] = ContextVar("heartbeat_details", default=None)


def beat(*details: Any) -> None:
    """Heartbeat `details` and keep them as the details of the interceptor's beats."""
    latest = _latest.get()
    if latest is not None:
        latest[:] = details
    activity.heartbeat(*details)


class HeartbeatInterceptor(Interceptor):
    """Worker interceptor: heartbeat each running activity every `every` seconds."""

    def __init__(self, every: float = BEAT_EVERY_SECONDS) -> None:
        self.every = every

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Heartbeating(next, self.every)


class _Heartbeating(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, every: float) -> None:
        super().__init__(next)
        self.every = every

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        latest: list[Any] = []
        _latest.set(latest)
        beating = asyncio.create_task(_beat(self.every, latest))
        try:
            return await super().execute_activity(input)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating


async def _beat(every: float, latest: list[Any]) -> None:
    while True:
        await asyncio.sleep(every)
        activity.heartbeat(*latest)
