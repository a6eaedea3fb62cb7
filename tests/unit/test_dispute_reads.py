"""Which provider status a call's answer may replace (`moves_on`): a round only moves
forward, and an answer of one round never replaces a status of another."""

from __future__ import annotations

import pytest

from crossdock.models.dispute import ROUND_KINDS, STATUS_RANK, ProviderStatus, moves_on

S = ProviderStatus


@pytest.mark.parametrize(
    ("read", "current"),
    [
        (S.UNDER_REVIEW, S.NEEDS_RESPONSE),
        (S.LOST, S.UNDER_REVIEW),
        (S.WON, S.APPEAL_UNDER_REVIEW),
        (S.WARNING_UNDER_REVIEW, S.WARNING_NEEDS_RESPONSE),
        (S.WARNING_CLOSED, S.WARNING_UNDER_REVIEW),
    ],
)
def test_a_later_status_of_the_same_round_moves_it_on(
    read: ProviderStatus, current: ProviderStatus
) -> None:
    assert moves_on(read, current)


@pytest.mark.parametrize(
    ("read", "current"),
    [
        (S.UNDER_REVIEW, S.WON),  # the chaos run's race: a decided round stays decided
        (S.UNDER_REVIEW, S.LOST),
        (S.UNDER_REVIEW, S.UNDER_REVIEW),
        (S.WARNING_UNDER_REVIEW, S.NEEDS_RESPONSE),  # the inquiry escalated meanwhile
        (S.WARNING_CLOSED, S.NEEDS_RESPONSE),
        (S.UNDER_REVIEW, S.WARNING_CLOSED),
    ],
)
def test_an_earlier_or_other_rounds_status_does_not(
    read: ProviderStatus, current: ProviderStatus
) -> None:
    assert not moves_on(read, current)


def test_every_status_has_a_round() -> None:
    assert set(ROUND_KINDS) == set(ProviderStatus) == set(STATUS_RANK)
