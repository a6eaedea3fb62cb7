"""Partner answers classified once: a refusal's kind from the partner's words and status,
carried through Temporal's failure conversion and read back by `refusal_of`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from activities.errors import PartnerRefused, partner_errors
from crossdock.models.refusals import Refusal, RefusalKind, classify
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable, RateLimited
from workflows.refusals import refusal_of


@pytest.mark.parametrize(
    ("status", "code", "message", "kind"),
    [
        (404, "resource_missing", "No such payment_intent: 'pi_1'", RefusalKind.NOT_FOUND),
        (404, "not_found", "no reservation 'rsv_1'", RefusalKind.NOT_FOUND),
        (402, "card_declined", "Your card was declined.", RefusalKind.DECLINED),
        (
            400,
            "charge_already_refunded",
            "Charge ch_1 has already been refunded.",
            RefusalKind.ALREADY_DONE,
        ),
        (
            400,
            "32600",
            "Invalid input data: lineItems[0].quantity 1 for line item 10, which "
            "has 0 unit(s) left to ship",
            RefusalKind.ALREADY_DONE,
        ),
        (
            400,
            "32600",
            "lineItems[0].quantity 3 for line item 10, which has 1 unit(s) left to ship",
            RefusalKind.OVER_LIMIT,
        ),
        (
            400,
            "amount_too_large",
            "Refund amount is greater than the charge",
            RefusalKind.OVER_LIMIT,
        ),
        (422, "ADDRESS.VERIFY.FAILURE", "Address not found", RefusalKind.NOT_FOUND),
        (422, "parameter_invalid", "weight must be positive", RefusalKind.INVALID),
        (403, None, "forbidden", RefusalKind.REFUSED),
    ],
)
def test_a_refusal_is_classified_by_words_then_status(
    status: int, code: str | None, message: str, kind: RefusalKind
) -> None:
    assert classify(status, code, message) is kind


def test_a_rejection_becomes_a_non_retryable_partner_refused() -> None:
    with pytest.raises(PartnerRefused) as caught, partner_errors():
        raise PartnerRejected(
            "stripe", "No such payment_intent: 'pi_9'", status=404, code="resource_missing"
        )
    err = caught.value
    assert err.non_retryable and err.type == "resource_missing"
    assert err.refusal.kind is RefusalKind.NOT_FOUND and err.refusal.partner == "stripe"


def test_unavailable_and_rate_limited_stay_retryable() -> None:
    with pytest.raises(ApplicationError) as unavailable, partner_errors():
        raise PartnerUnavailable("stripe", "idempotency key in use", status=409)
    assert not unavailable.value.non_retryable
    assert refusal_of(unavailable.value) is None
    with pytest.raises(ApplicationError) as limited, partner_errors():
        raise RateLimited("ebay", "slow down", status=429, retry_after=7)
    assert not limited.value.non_retryable
    assert limited.value.next_retry_delay == timedelta(seconds=7)


def _through_temporal(err: ApplicationError) -> ActivityError:
    """What the workflow sees: the failure serialised and decoded as Temporal does."""
    converter = pydantic_data_converter
    failure = Failure()
    converter.failure_converter.to_failure(err, converter.payload_converter, failure)
    cause = converter.failure_converter.from_failure(failure, converter.payload_converter)
    activity_error = ActivityError(
        "activity failed",
        scheduled_event_id=5,
        started_event_id=6,
        identity="w",
        activity_type="refund_payment",
        activity_id="1",
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    activity_error.__cause__ = cause
    return activity_error


def test_refusal_of_reads_the_refusal_back_after_temporal_decoded_it() -> None:
    sent = Refusal(
        kind=RefusalKind.NOT_FOUND,
        message="No such payment_intent",
        partner="stripe",
        code="resource_missing",
        status=404,
    )
    assert refusal_of(_through_temporal(PartnerRefused(sent))) == sent


def test_refusal_of_an_unclassified_non_retryable_error_reads_its_type_and_words() -> None:
    legacy = ApplicationError("Your card was declined.", type="card_declined", non_retryable=True)
    found = refusal_of(_through_temporal(legacy))
    assert found is not None and found.kind is RefusalKind.DECLINED
    assert found.code == "card_declined"
    plain = refusal_of(_through_temporal(ApplicationError("computer says no", non_retryable=True)))
    assert plain is not None and plain.kind is RefusalKind.REFUSED
