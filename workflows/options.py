"""How workflows call activities: Temporal owns the retries (design §5)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Partner calls: retry transient failures for a long while with capped backoff. Business
# rejections are raised as non-retryable ApplicationErrors and end retrying at once;
# 429s carry the partner's Retry-After as next_retry_delay.
PARTNER_CALL = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=2),
    ),
}

# Compensations must eventually happen, so they never give up either.
COMPENSATION = PARTNER_CALL
