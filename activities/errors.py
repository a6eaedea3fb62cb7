"""Partner errors → Temporal's retry semantics (architecture §4).

Activities never retry by themselves: they classify the failure once and let the
activity's RetryPolicy act on it.

- retryable: 5xx, timeouts, connection resets, 409 (an idempotency key still in use)
  retry with the policy's backoff; a 429 retries after the partner's `Retry-After`
  (`next_retry_delay`).
- a business refusal (declined, invalid, not found, already done, over the limit)
  becomes `PartnerRefused`: non-retryable, its `Refusal` in the error's details, so the
  workflow branches on `workflows.refusals.refusal_of(err)` and never on wording.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio.exceptions import ApplicationError

from crossdock.models.refusals import Refusal, RefusalKind, classify
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable, RateLimited


class PartnerRefused(ApplicationError):
    """A partner's business refusal: retrying cannot change the answer.

    Its type stays the partner's code (e.g. "card_declined", "ADDRESS.VERIFY.FAILURE")
    for the workflows that read it; its first detail is the `Refusal` as JSON.
    """

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(
            refusal.message,
            refusal.model_dump(mode="json"),
            type=refusal.code or "PartnerRejected",
            non_retryable=True,
        )
        self.refusal = refusal


def refused(
    kind: RefusalKind, message: str, *, partner: str = "", code: str = ""
) -> PartnerRefused:
    """A refusal an activity decides itself (a channel that does not collect payment)."""
    return PartnerRefused(Refusal(kind=kind, message=message, partner=partner, code=code))


@contextmanager
def partner_errors() -> Iterator[None]:
    """Turn a `PartnerError` raised inside the block into the right `ApplicationError`."""
    try:
        yield
    except RateLimited as err:
        # Honour the partner's Retry-After instead of the policy's backoff.
        delay = timedelta(seconds=err.retry_after or 1.0)
        raise ApplicationError(str(err), type="RateLimited", next_retry_delay=delay) from err
    except PartnerRejected as err:
        # A business refusal: retrying cannot change the answer; the workflow decides.
        raise PartnerRefused(
            Refusal(
                kind=classify(err.status, err.code, err.message),
                message=err.message[:2000],
                partner=err.partner,
                code=err.code or "",
                status=err.status,
            )
        ) from err
    except PartnerUnavailable as err:
        raise ApplicationError(str(err), type="PartnerUnavailable") from err
