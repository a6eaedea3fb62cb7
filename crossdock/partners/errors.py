"""Partner failures, classified once so activities can decide retry vs business path.

- `PartnerUnavailable`: 5xx, timeouts, connection errors. Temporal retries.
- `RateLimited`: 429. Temporal retries after the partner's `Retry-After`.
- `PartnerRejected`: a 4xx business refusal (card declined, address invalid). Retrying
  cannot help; the workflow takes the business path.
"""

from __future__ import annotations


class PartnerError(Exception):
    """A partner call that did not succeed."""

    retryable: bool = True

    def __init__(
        self,
        partner: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{partner}: {message}" + (f" (HTTP {status})" if status else ""))
        self.partner = partner
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after


class PartnerUnavailable(PartnerError):
    retryable = True


class RateLimited(PartnerError):
    retryable = True


class PartnerRejected(PartnerError):
    retryable = False
