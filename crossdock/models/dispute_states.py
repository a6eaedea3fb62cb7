"""The dispute lifecycle (docs/lifecycles.md) as a table: which states may follow which.

One workflow follows a case through every round: an inquiry that escalates into a
chargeback, and a won chargeback that comes back as pre-arbitration or a second
chargeback, each start a new round at `opened` (after continue-as-new, timeline kept).
"""

from __future__ import annotations

from enum import StrEnum

from crossdock.models.lifecycle import Lifecycle


class DisputeState(StrEnum):
    OPENED = "opened"
    EVIDENCE_STAGED = "evidence_staged"
    AWAITING_DECISION = "awaiting_decision"
    SUBMITTED = "submitted"
    # We accepted the dispute (refund/close): the provider closes it as lost.
    ACCEPTED = "accepted"
    WON = "won"
    LOST = "lost"
    # An inquiry the issuer closed without a chargeback.
    INQUIRY_CLOSED = "inquiry_closed"


S = DisputeState

# The provider may decide a round at any point (an issuer closing an inquiry, a dispute
# lost because the provider's own clock ran out): every open state can reach these.
PROVIDER_OUTCOMES = frozenset({S.WON, S.LOST, S.INQUIRY_CLOSED})

DISPUTE_LIFECYCLE = Lifecycle(
    "dispute",
    S.OPENED,
    {
        S.OPENED: frozenset({S.EVIDENCE_STAGED}) | PROVIDER_OUTCOMES,
        # The deadline policy may answer at once when the dispute arrived too late to ask.
        S.EVIDENCE_STAGED: frozenset({S.AWAITING_DECISION, S.SUBMITTED, S.ACCEPTED})
        | PROVIDER_OUTCOMES,
        S.AWAITING_DECISION: frozenset({S.SUBMITTED, S.ACCEPTED}) | PROVIDER_OUTCOMES,
        # opened again: an inquiry we answered escalated into a chargeback.
        S.SUBMITTED: frozenset({S.OPENED}) | PROVIDER_OUTCOMES,
        # Pre-arbitration or a second chargeback after a win; a closed inquiry escalating.
        S.WON: frozenset({S.OPENED}),
        S.INQUIRY_CLOSED: frozenset({S.OPENED}),
        S.ACCEPTED: frozenset(),
        S.LOST: frozenset(),
    },
)
