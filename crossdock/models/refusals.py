"""A partner's business refusal, classified once (docs/architecture.md §4).

An activity turns a partner's 4xx answer into a `Refusal` (carried in the details of a
non-retryable `ApplicationError`, see `activities/errors.py`); workflows read it back
with `workflows.refusals.refusal_of` and branch on its `kind`, never on a partner's
wording. Retryable answers (5xx, timeouts, 429, 409 key in use) never become refusals:
Temporal retries them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class RefusalKind(StrEnum):
    """What the partner's refusal means for the workflow, whichever partner said it."""

    # A payment or card declined, an authorization the provider will not honour.
    DECLINED = "declined"
    # Our request was wrong (a field, an address, a state the partner does not accept).
    INVALID = "invalid"
    # The partner does not know the thing we named (forgot it, never had it).
    NOT_FOUND = "not_found"
    # What we asked for is done already (refunded, shipped, claimed).
    ALREADY_DONE = "already_done"
    # More than the partner allows (refund over the charge, quantity over what is left).
    OVER_LIMIT = "over_limit"
    # Any other refusal: permissions, policy, a reason the partner did not spell out.
    REFUSED = "refused"


class Refusal(BaseModel):
    """A partner's refusal in the partner's own words, with its meaning."""

    kind: RefusalKind
    message: str = Field(max_length=2000)
    partner: str = ""
    code: str = ""
    status: int | None = None

    def __str__(self) -> str:
        who = f"{self.partner}: " if self.partner else ""
        http = f" (HTTP {self.status})" if self.status else ""
        return f"{who}{self.message}{http}"


# Words partners use, checked in this order (the first match wins): "already refunded"
# is ALREADY_DONE even though a refund over the limit would also mention the amount.
_WORDING: tuple[tuple[RefusalKind, tuple[str, ...]], ...] = (
    (RefusalKind.ALREADY_DONE, ("already", " 0 unit(s) left")),
    (RefusalKind.DECLINED, ("declined", "insufficient_funds", "expired_card", "do_not_honor")),
    (
        RefusalKind.NOT_FOUND,
        ("no such", "not found", "not_found", "resource_missing", "no reservation"),
    ),
    (RefusalKind.OVER_LIMIT, ("exceed", "too_large", "left to ship", "over the", "limit")),
)
_BY_STATUS = {402: RefusalKind.DECLINED, 404: RefusalKind.NOT_FOUND, 410: RefusalKind.NOT_FOUND}


def classify(status: int | None, code: str | None, message: str) -> RefusalKind:
    """The kind of a refusal from its HTTP status, the partner's code and message.

    The partner's words win over the status (a 400 "charge already refunded" is
    ALREADY_DONE, a 404 on a card is still NOT_FOUND); then the status; a 4xx that says
    nothing more is INVALID (we sent something the partner would not take).
    """
    text = f"{code or ''} {message}".lower()
    for kind, words in _WORDING:
        if any(word in text for word in words):
            return kind
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status in (401, 403):
        return RefusalKind.REFUSED
    if status is not None and 400 <= status < 500:
        return RefusalKind.INVALID
    return RefusalKind.REFUSED


class PartnerQuestion(BaseModel):
    """A refusal the workflow cannot settle itself, put to a person until answered.

    `money` marks a question about money (a refund, a capture): while one is open the
    case stays open and may not be cancelled or closed around it.
    """

    step: str
    what: str
    refusal: Refusal
    money: bool = False
    approval_key: str = ""
