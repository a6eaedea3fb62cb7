"""The console's list filters become visibility queries only from known values; anything
else is a 400 naming the filter and what would be right."""

from __future__ import annotations

from datetime import date

import pytest

from crossdock.console.errors import ConsoleError
from crossdock.console.kinds import SPECS, CaseKind, spec_for_id
from crossdock.console.reads import CaseFilter

ORDERS = SPECS[CaseKind.ORDER]


def test_filters_make_one_visibility_query() -> None:
    filters = CaseFilter(
        state="in_review",
        marketplace="ebay",
        destination="FR",
        needs_attention=True,
        since=date(2026, 11, 1),
        until=date(2026, 11, 30),
    )
    assert filters.query(ORDERS) == (
        'WorkflowType = "OrderWorkflow" AND CrossdockState = "in_review" AND '
        'Marketplace = "ebay" AND Destination = "FR" AND NeedsAttention = true AND '
        'StartTime >= "2026-11-01T00:00:00Z" AND StartTime < "2026-12-01T00:00:00Z"'
    )
    assert CaseFilter().query(SPECS[CaseKind.DISPUTE]) == 'WorkflowType = "DisputeWorkflow"'


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (CaseFilter(state='x" OR true'), "is not a order state; expected one of"),
        (CaseFilter(state="won"), "'won' is not a order state"),
        (CaseFilter(marketplace="etsy"), "marketplace 'etsy' is unknown; expected one of amazon"),
        (CaseFilter(limit=0), "limit 0 must be between 1 and 500"),
        (CaseFilter(destination='FR" OR'), "is not an ISO country code such as 'FR'"),
    ],
)
def test_unknown_values_are_refused_naming_the_filter(filters: CaseFilter, message: str) -> None:
    with pytest.raises(ConsoleError) as refused:
        filters.query(ORDERS)
    assert refused.value.status == 400
    assert message in refused.value.message


def test_a_workflow_id_names_its_kind() -> None:
    assert spec_for_id("order-ebay-12-34567-89012") is SPECS[CaseKind.ORDER]
    assert spec_for_id("return-storefront-RMA-1") is SPECS[CaseKind.RETURN]
    assert spec_for_id("dispute-stripe-du_1") is SPECS[CaseKind.DISPUTE]
    assert spec_for_id("intake-poll-ebay") is None
