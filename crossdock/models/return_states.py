"""The return lifecycle (docs/lifecycles.md) as a table: which states may follow which."""

from __future__ import annotations

from enum import StrEnum

from crossdock.models.lifecycle import Lifecycle


class ReturnState(StrEnum):
    REQUESTED = "requested"
    # Outside policy or over the auto-approve threshold: an operator decides.
    IN_REVIEW = "in_review"
    # A partial refund is offered; the buyer keeps the goods if they accept.
    OFFERED = "offered"
    APPROVED = "approved"
    # The return label is bought and sent; waiting for the buyer to ship.
    LABEL_ISSUED = "label_issued"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDING = "refunding"
    # Every retry failed: an operator retries or closes it by hand (never forgotten).
    REFUND_FAILED = "refund_failed"
    # Issued, but the partner cannot say whether it was paid (it refused the check): a
    # person finds out; the return cannot close until they say what happened.
    REFUND_UNCONFIRMED = "refund_unconfirmed"
    REFUNDED = "refunded"
    # The lines were sent again instead of refunded (a replacement order of their own).
    REPLACED = "replaced"
    DECLINED = "declined"
    # The buyer did not ship the goods back in time.
    NOT_SHIPPED = "not_shipped"
    # Ended with nothing (more) to refund: all written off to the buyer's cost, the
    # order's ledger had nothing left, or a failed refund finished by hand.
    CLOSED = "closed"


S = ReturnState

RETURN_TRANSITIONS: dict[ReturnState, frozenset[ReturnState]] = {
    S.REQUESTED: frozenset({S.IN_REVIEW, S.APPROVED, S.DECLINED}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.OFFERED, S.DECLINED}),
    # Accepted: refund the offer; declined or unanswered: the ordinary return.
    S.OFFERED: frozenset({S.REFUNDING, S.APPROVED}),
    # With a label, or returnless straight to the refund.
    # Or, when the carrier refuses the label or the replacement cannot be started, a
    # person refunds without the goods or closes the return.
    S.APPROVED: frozenset({S.LABEL_ISSUED, S.REFUNDING, S.REPLACED, S.CLOSED}),
    S.LABEL_ISSUED: frozenset({S.IN_TRANSIT, S.RECEIVED, S.NOT_SHIPPED}),
    # Or lost on its way back: an operator refunds without it, or closes the return.
    S.IN_TRANSIT: frozenset({S.RECEIVED, S.REFUNDING, S.CLOSED}),
    S.RECEIVED: frozenset({S.INSPECTED}),
    S.INSPECTED: frozenset({S.REFUNDING, S.CLOSED}),
    S.REFUNDING: frozenset({S.REFUNDED, S.REFUND_FAILED, S.REFUND_UNCONFIRMED, S.CLOSED}),
    # Checked again, or answered by a person: paid after all, or refunded another way
    # (closed only if the order's ledger then had nothing left for it).
    S.REFUND_UNCONFIRMED: frozenset({S.REFUNDING, S.REFUNDED, S.CLOSED}),
    # Retried by a person, recorded as refunded by hand, or closed.
    S.REFUND_FAILED: frozenset({S.REFUNDING, S.REFUNDED, S.CLOSED}),
    S.REFUNDED: frozenset(),
    S.REPLACED: frozenset(),
    S.DECLINED: frozenset(),
    S.NOT_SHIPPED: frozenset(),
    S.CLOSED: frozenset(),
}

RETURN_LIFECYCLE = Lifecycle("return", ReturnState.REQUESTED, RETURN_TRANSITIONS)
