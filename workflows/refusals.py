"""Reading a partner's refusal back in workflow code (replay-safe, no I/O).

Every workflow branches on refusals through `refusal_of`, so a refusal means the same
thing in an order, a return or a dispute: see `crossdock.models.refusals`.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from crossdock.models.refusals import Refusal, classify


def refusal_of(err: BaseException) -> Refusal | None:
    """The partner's business refusal behind `err`, or None if `err` is not one.

    `err` is what awaiting an activity raised (an `ActivityError`) or its cause. A
    non-retryable `ApplicationError` without a `Refusal` in its details (raised before
    refusals were classified, or by an activity's own check) is still a refusal: its
    kind is read from its type and message.
    """
    cause = err.cause if isinstance(err, ActivityError) else err
    if not isinstance(cause, ApplicationError) or not cause.non_retryable:
        return None
    for detail in cause.details:
        if isinstance(detail, dict) and "kind" in detail:
            try:
                return Refusal.model_validate(detail)
            except ValidationError:
                break
    code = cause.type or ""
    return Refusal(
        kind=classify(None, code, cause.message), message=cause.message[:2000], code=code
    )
