"""Accounts scoped to marketplaces: a case's channel from its workflow id, who may see
it, and the scope stored with the account (every channel by default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossdock.identity import Accounts, IdentityError
from crossdock.identity.scope import in_scope, marketplace_of
from crossdock.models.approval import Role
from crossdock.store import Database, upgrade


@pytest.mark.parametrize(
    ("workflow_id", "channel"),
    [
        ("order-amazon-123-456", "amazon"),
        ("order-storefront-SF1", "storefront"),
        ("return-ebay-RMA-9", "ebay"),
        ("dispute-stripe-dp_1", "storefront"),
        ("dispute-ebay-case-77", "ebay"),
        ("dispute-amazon-AZ1", "amazon"),
        ("intake-poll-ebay", ""),
        ("order-mars-1", ""),
        ("namespace:default", ""),
    ],
)
def test_a_cases_channel_comes_from_its_id(workflow_id: str, channel: str) -> None:
    assert marketplace_of(workflow_id) == channel


def test_scoped_accounts_see_their_channels_only(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'scope.db'}")
    upgrade(db)
    accounts = Accounts(db)
    accounts.add("amz-1", Role.OPERATOR, marketplaces=["amazon"])
    accounts.add("ops-1", Role.OPERATOR)
    amazon = accounts.scope("amz-1")
    assert amazon == frozenset({"amazon"}) and accounts.scope("ops-1") is None
    assert in_scope(amazon, "order-amazon-1") and not in_scope(amazon, "order-storefront-1")
    assert not in_scope(amazon, "namespace:default")  # a scoped account names its case
    assert in_scope(None, "namespace:default")
    assert accounts.scope("nobody") == frozenset()
    listed = {a.account_id: a.marketplaces for a in accounts.all()}
    assert listed == {"amz-1": ["amazon"], "ops-1": None}
    with pytest.raises(IdentityError, match="unknown or empty"):
        accounts.add("x-1", Role.VIEWER, marketplaces=["mars"])
    db.dispose()
