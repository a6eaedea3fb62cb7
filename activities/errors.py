"""Partner errors → Temporal's retry semantics (architecture §4).

Activities never retry by themselves: they classify the failure and let the
activity's RetryPolicy act on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio.exceptions import ApplicationError

from crossdock.partners.errors import PartnerRejected, PartnerUnavailable, RateLimited


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
        raise ApplicationError(
            err.message, type=err.code or "PartnerRejected", non_retryable=True
        ) from err
    except PartnerUnavailable as err:
        raise ApplicationError(str(err), type="PartnerUnavailable") from err
