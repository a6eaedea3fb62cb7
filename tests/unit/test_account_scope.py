"""Accounts scoped to marketplaces and destination countries: a case's channel from its
workflow id, who may see it, the scope as a visibility condition, and the scope stored
with the account (every case by default)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from crossdock.console.case_scope import destination_of, reaches
from crossdock.console.errors import ConsoleError
from crossdock.identity import Accounts, IdentityError
from crossdock.identity.scope import (
    ISO_COUNTRIES,
    NOTHING,
    AccountScope,
    countries_text,
    in_scope,
    marketplace_of,
    needs_country,
    visibility_clause,
)
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
    assert amazon == AccountScope(marketplaces=frozenset({"amazon"}))
    assert accounts.scope("ops-1") is None
    assert in_scope(amazon, "order-amazon-1") and not in_scope(amazon, "order-storefront-1")
    assert not in_scope(amazon, "namespace:default")  # a scoped account names its case
    assert in_scope(None, "namespace:default")
    assert accounts.scope("nobody") == NOTHING
    assert not in_scope(NOTHING, "order-amazon-1", country="DE")
    listed = {a.account_id: (a.marketplaces, a.countries) for a in accounts.all()}
    assert listed == {"amz-1": (["amazon"], None), "ops-1": (None, None)}
    with pytest.raises(IdentityError, match="unknown or empty"):
        accounts.add("x-1", Role.VIEWER, marketplaces=["mars"])
    db.dispose()


def test_a_country_scope_sees_orders_shipped_there_and_fails_closed_without_one() -> None:
    german = AccountScope(countries=frozenset({"DE", "AT"}))
    assert in_scope(german, "order-ebay-1", country="DE")
    assert not in_scope(german, "order-ebay-1", country="US")
    # A case whose country is unknown (a return, a dispute, or a check by id alone).
    assert not in_scope(german, "order-ebay-1") and not in_scope(german, "return-ebay-R1")
    assert needs_country(german) and not needs_country(None)
    assert not needs_country(AccountScope(marketplaces=frozenset({"ebay"})))


def test_both_limits_apply_together() -> None:
    ebay_de = AccountScope(marketplaces=frozenset({"ebay"}), countries=frozenset({"DE"}))
    assert in_scope(ebay_de, "order-ebay-1", country="DE")
    assert not in_scope(ebay_de, "order-amazon-1", country="DE")
    assert not in_scope(ebay_de, "order-ebay-1", country="FR")
    assert in_scope(ebay_de, marketplace="ebay", country="DE")


def test_the_scope_as_a_visibility_condition() -> None:
    assert visibility_clause(None) == ""
    both = AccountScope(marketplaces=frozenset({"ebay", "amazon"}), countries=frozenset({"FR"}))
    assert visibility_clause(both) == (
        ' AND Marketplace IN ("amazon", "ebay") AND Destination IN ("FR")'
    )
    assert visibility_clause(AccountScope(countries=frozenset({"DE", "AT"}))) == (
        ' AND Destination IN ("AT", "DE")'
    )
    # An empty limit matches nothing rather than being dropped (or invalid syntax).
    assert visibility_clause(NOTHING) == ' AND Marketplace IN ("") AND Destination IN ("")'


def test_countries_are_iso_alpha_2_codes() -> None:
    assert countries_text(["fr", "DE", "de"]) == "DE,FR"
    assert countries_text(None) is None
    assert {"DE", "US", "CN", "GB", "JP"} <= ISO_COUNTRIES and len(ISO_COUNTRIES) == 249
    for wrong in (["UK"], ["EU"], ["DEU"], ["1"], []):
        with pytest.raises(ValueError, match="ISO 3166 alpha-2"):
            countries_text(wrong)


def test_accounts_keep_their_countries(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'countries.db'}")
    upgrade(db)
    accounts = Accounts(db)
    accounts.add("de-1", Role.OPERATOR, countries=["de", "FR"])
    accounts.add("ebay-de", Role.OPERATOR, marketplaces=["ebay"], countries=["DE"])
    assert accounts.scope("de-1") == AccountScope(countries=frozenset({"DE", "FR"}))
    assert accounts.scope("ebay-de") == AccountScope(
        marketplaces=frozenset({"ebay"}), countries=frozenset({"DE"})
    )
    listed = {a.account_id: (a.marketplaces, a.countries) for a in accounts.all()}
    assert listed == {"de-1": (None, ["DE", "FR"]), "ebay-de": (["ebay"], ["DE"])}
    with pytest.raises(IdentityError, match=r"\['XX'\] are not ISO 3166 alpha-2"):
        accounts.add("x-1", Role.VIEWER, countries=["DE", "XX"])
    db.dispose()


async def test_a_check_by_id_describes_only_when_a_country_scope_needs_it() -> None:
    asked: list[str] = []

    async def country_of(workflow_id: str) -> str:
        asked.append(workflow_id)
        return {"order-ebay-1": "DE", "order-ebay-2": "US"}.get(workflow_id, "")

    ebay_de = AccountScope(marketplaces=frozenset({"ebay"}), countries=frozenset({"DE"}))
    assert await reaches(None, "order-amazon-1", country_of)
    assert await reaches(AccountScope(marketplaces=frozenset({"ebay"})), "order-ebay-2", country_of)
    assert not await reaches(ebay_de, "order-amazon-1", country_of)  # the id says enough
    assert asked == []
    assert await reaches(ebay_de, "order-ebay-1", country_of)
    assert not await reaches(ebay_de, "order-ebay-2", country_of)
    assert not await reaches(ebay_de, "return-ebay-R1", country_of)
    assert asked == ["order-ebay-1", "order-ebay-2", "return-ebay-R1"]


class _Unreachable:
    """A Temporal client stand-in whose describe fails with `status`."""

    def __init__(self, status: RPCStatusCode) -> None:
        self.status = status

    def get_workflow_handle(self, workflow_id: str) -> _Unreachable:
        return self

    async def describe(self) -> None:
        raise RPCError("no", self.status, b"")


async def test_a_destination_temporal_cannot_give_is_none_or_a_503() -> None:
    gone = cast(Client, _Unreachable(RPCStatusCode.NOT_FOUND))
    assert await destination_of(gone, "order-ebay-1") == ""
    down = cast(Client, _Unreachable(RPCStatusCode.UNAVAILABLE))
    with pytest.raises(ConsoleError) as refused:
        await destination_of(down, "order-ebay-1")
    assert refused.value.status == 503 and "order-ebay-1" in refused.value.message
