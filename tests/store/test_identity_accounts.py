"""Accounts and API tokens on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crossdock.identity import Accounts, AuthenticationFailed, IdentityError
from crossdock.identity.accounts import token_digest
from crossdock.identity.tables import ApiTokenRow
from crossdock.models.approval import Principal, Role
from crossdock.store import Database

PASSWORD = "correct horse battery"


def test_token_authenticates_as_its_account(db: Database) -> None:
    accounts = Accounts(db)
    accounts.add("ops-7", Role.OPERATOR)
    issued = accounts.issue_token("ops-7", "laptop")
    assert issued.token.startswith("cdk_")
    assert accounts.by_token(issued.token) == Principal(id="ops-7", role=Role.OPERATOR)


def test_tokens_are_stored_hashed_only(db: Database) -> None:
    accounts = Accounts(db)
    accounts.add("ops-7", Role.OPERATOR)
    issued = accounts.issue_token("ops-7")
    with db.session() as session:
        stored = session.scalars(select(ApiTokenRow)).one()
        assert stored.token_hash == token_digest(issued.token)
        assert issued.token not in {stored.token_hash, stored.prefix, stored.name}


def test_unknown_token_is_refused(db: Database) -> None:
    with pytest.raises(AuthenticationFailed, match="unknown API token"):
        Accounts(db).by_token("cdk_not-a-token")


def test_disabled_account_loses_tokens_and_login(db: Database) -> None:
    accounts = Accounts(db)
    accounts.add("fin-2", Role.FINANCE, password=PASSWORD)
    issued = accounts.issue_token("fin-2")
    accounts.disable("fin-2")
    with pytest.raises(AuthenticationFailed, match="disabled"):
        accounts.by_token(issued.token)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        accounts.by_password("fin-2", PASSWORD)
    with pytest.raises(IdentityError, match="disabled; it gets no tokens"):
        accounts.issue_token("fin-2")


def test_password_login(db: Database) -> None:
    accounts = Accounts(db)
    accounts.add("adm-1", Role.ADMIN, password=PASSWORD)
    assert accounts.by_password("adm-1", PASSWORD) == Principal(id="adm-1", role=Role.ADMIN)
    with pytest.raises(AuthenticationFailed, match="wrong password"):
        accounts.by_password("adm-1", PASSWORD + "!")


def test_token_only_account_has_no_login(db: Database) -> None:
    accounts = Accounts(db)
    accounts.add("bot-1", Role.OPERATOR)
    with pytest.raises(AuthenticationFailed, match="no password login"):
        accounts.by_password("bot-1", PASSWORD)


def test_list_shows_roles_and_token_prefixes(db: Database) -> None:
    accounts = Accounts(db)
    accounts.add("view-1", Role.VIEWER)
    accounts.add("ops-7", Role.OPERATOR, password=PASSWORD)
    issued = accounts.issue_token("ops-7")
    listed = {a.account_id: a for a in accounts.all()}
    assert [*listed] == ["ops-7", "view-1"]
    assert listed["ops-7"].tokens == [issued.prefix]
    assert listed["ops-7"].has_password and not listed["view-1"].has_password


@pytest.mark.parametrize(
    ("account_id", "password", "message"),
    [
        ("Jane Doe", None, "must be 1-64 lowercase"),
        ("ops-7", "short", "use at least 12"),
    ],
)
def test_bad_input_is_named(
    db: Database, account_id: str, password: str | None, message: str
) -> None:
    with pytest.raises(IdentityError, match=message):
        Accounts(db).add(account_id, Role.OPERATOR, password=password)


def test_duplicate_and_unknown_accounts_are_named(db: Database) -> None:
    accounts = Accounts(db)
    accounts.add("ops-7", Role.OPERATOR)
    with pytest.raises(IdentityError, match="'ops-7' already exists"):
        accounts.add("ops-7", Role.ADMIN)
    with pytest.raises(IdentityError, match="no account 'ops-9'"):
        accounts.issue_token("ops-9")
