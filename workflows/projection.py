"""Keeps a workflow's read-model rows in step with its status (docs/readmodel.md).

A task beside the run waits for the status to change and hands the whole status to a
local activity (one history event, no partner call) with a sequence number that only
grows. It never blocks the lifecycle: a failed write is logged and the next change
writes everything again; `crossdock readmodel rebuild` mends what was missed. The run
flushes it before it returns, so the rows end as the workflow ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.readmodel import ReadModelActivities
    from crossdock.models.case import CaseStatus
    from crossdock.models.dispute_status import DisputeStatus
    from crossdock.models.lifecycle import TimelineEntry
    from crossdock.models.order import Order
    from crossdock.models.order_status import OrderStatus
    from crossdock.models.readmodel import (
        ProjectCaseInput,
        ProjectDisputeInput,
        ProjectionReceipt,
        ProjectOrderInput,
        ProjectReturnInput,
        projection_seq,
    )
    from crossdock.models.return_status import ReturnStatus

# Behind this patch in every lifecycle workflow, so histories recorded before the read
# model existed replay without its local activities.
READ_MODEL = "read-model"
# Behind this one, a change an update made is written in the workflow's next task, not
# in the update's own: a workflow task with a local activity completes only once the
# activity has, and the update's answer reaches its caller only when its task completes,
# so the operator's answer waited for the database write (bench/README.md).
ANSWER_FIRST = "read-model-after-answer"
# How long a deferred write waits for the next task before a timer wakes the workflow
# (a decision after which the workflow only waits, e.g. for more information).
DEFER_AT_MOST = timedelta(seconds=1)

T = TypeVar("T")

WRITE_TIMEOUT = timedelta(seconds=10)
# A database that stays away this long is left for the next change (or a rebuild).
GIVE_UP_AFTER = timedelta(minutes=2)
# A worker without the read model's activities (a narrow test worker) fails at once.
RETRY = RetryPolicy(
    maximum_interval=timedelta(seconds=10), non_retryable_error_types=["NotFoundError"]
)


class HasTimeline(Protocol):
    @property
    def timeline(self) -> list[TimelineEntry]: ...

    def model_copy(self, *, deep: bool = ...) -> Any: ...


class Projector:
    """Writes `status()` through `activity(make_input(seq, snapshot))` whenever it changed."""

    def __init__(
        self,
        activity: Callable[[Any, Any], Awaitable[ProjectionReceipt]],
        status: Callable[[], HasTimeline],
        make_input: Callable[[int, Any], BaseModel],
    ) -> None:
        self._activity = activity
        self._status = status
        self._make_input = make_input
        self._written: Any = None
        self._length = -1
        self._since = 0
        self._busy = False
        self._disabled = False
        self._answered_in: int | None = None  # the task in which an update changed status
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Projector:
        self._task = asyncio.create_task(self._follow())
        return self

    async def close(self) -> None:
        """Wait until the last status is written (or its write gave up), then stop."""
        await workflow.wait_condition(lambda: not self._busy and not self._changed())
        if self._task is not None:
            self._task.cancel()

    def answered(self) -> None:
        """Called by an update handler: a change it makes is written after its task."""
        self._answered_in = _task_mark()

    def _changed(self) -> bool:
        return not self._disabled and bool(self._status() != self._written)

    async def _follow(self) -> None:
        while not self._disabled:
            await workflow.wait_condition(self._changed)
            self._busy = True
            try:
                await self._after_answer()
                await self._write()
            finally:
                self._busy = False

    async def _after_answer(self) -> None:
        """If an update made this change in this very task, let the task complete (and
        the update answer) first: wait for the next task, or at most DEFER_AT_MOST."""
        mark, self._answered_in = self._answered_in, None
        if mark is None or mark != _task_mark() or not workflow.patched(ANSWER_FIRST):
            return
        try:
            await workflow.wait_condition(lambda: _task_mark() > mark, timeout=DEFER_AT_MOST)
        except TimeoutError:
            pass  # the timer's own task is the next one

    async def _write(self) -> None:
        snapshot = self._status().model_copy(deep=True)
        length = len(snapshot.timeline)
        self._since = self._since + 1 if length == self._length else 0
        self._length = length
        seq = projection_seq(length, self._since)
        try:
            await workflow.execute_local_activity_method(
                self._activity,
                self._make_input(seq, snapshot),
                start_to_close_timeout=WRITE_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP_AFTER,
                retry_policy=RETRY,
            )
        except ActivityError as err:
            workflow.logger.warning(
                "read_model_write_failed", extra={"error": str(err.cause or err)}
            )
        except ValueError as err:
            # Raised as the local activity is scheduled, before any command: this worker
            # has no read-model activities (a narrow test worker). Follow nothing more;
            # a worker built by worker.py always has them.
            workflow.logger.warning("read_model_unavailable", extra={"error": str(err)})
            self._disabled = True
        self._written = snapshot


def _task_mark() -> int:
    # The history's length when this workflow task started: it grows with every task.
    return workflow.info().get_current_history_length()


def _workflow_id() -> str:
    return workflow.info().workflow_id


def order_projector(order: Order, status: Callable[[], OrderStatus]) -> Projector:
    """Follow an order (its status object may be replaced, hence a getter)."""
    return Projector(
        ReadModelActivities.project_order,
        status,
        lambda seq, s: ProjectOrderInput(
            workflow_id=_workflow_id(), seq=seq, order=order, status=s
        ),
    ).start()


def return_projector(status: Callable[[], ReturnStatus]) -> Projector:
    return Projector(
        ReadModelActivities.project_return,
        status,
        lambda seq, s: ProjectReturnInput(workflow_id=_workflow_id(), seq=seq, status=s),
    ).start()


def dispute_projector(status: Callable[[], DisputeStatus]) -> Projector:
    return Projector(
        ReadModelActivities.project_dispute,
        status,
        lambda seq, s: ProjectDisputeInput(workflow_id=_workflow_id(), seq=seq, status=s),
    ).start()


def case_projector(status: Callable[[], CaseStatus]) -> Projector:
    return Projector(
        ReadModelActivities.project_case,
        status,
        lambda seq, s: ProjectCaseInput(workflow_id=_workflow_id(), seq=seq, status=s),
    ).start()


async def projected(projector: Projector | None, run: Awaitable[T]) -> T:
    """Await the workflow's `run`, then let `projector` write its last status, whether
    the run returned, failed, was cancelled or continues as new."""
    if projector is None:
        return await run
    try:
        result = await run
    except GeneratorExit:
        raise  # evicted from the worker's cache: nothing may be awaited any more
    except BaseException:
        await projector.close()
        raise
    await projector.close()
    return result
