"""Web sessions (server-side): the operator they were opened for, with the role the
account has now; nothing for an unknown token, an ended or expired session, or once the
account is disabled or its password changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crossdock.console.auth import Sessions
from crossdock.identity import Accounts
from crossdock.identity.sessions import SessionStore
from crossdock.models.approval import Principal, Role
from crossdock.store import Database, upgrade

OPS = Principal(id="ops-1", role=Role.OPERATOR)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'console.db'}")
    upgrade(database)
    Accounts(database).add("ops-1", Role.OPERATOR, "a long enough password")
    yield database
    database.dispose()


async def test_a_session_stands_for_its_operator_until_logout(db: Database) -> None:
    sessions = Sessions(db)
    opened = await sessions.open(OPS)
    found = await sessions.session(opened.token)
    assert found is not None and found.principal == OPS and found.csrf == opened.csrf
    await sessions.close(opened.token)
    assert await sessions.principal(opened.token) is None


async def test_disabling_or_a_new_password_ends_every_session(db: Database) -> None:
    sessions = Sessions(db)
    first, second = await sessions.open(OPS), await sessions.open(OPS)
    Accounts(db).set_password("ops-1", "another long passphrase")
    assert await sessions.principal(first.token) is None
    assert await sessions.principal(second.token) is None
    third = await sessions.open(OPS)
    Accounts(db).disable("ops-1")
    assert await sessions.principal(third.token) is None


def test_a_session_expires(db: Database) -> None:
    store = SessionStore(db, timedelta(hours=8))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    opened = store.open("ops-1", now=start)
    assert store.find(opened.token, now=start + timedelta(hours=7)) is not None
    assert store.find(opened.token, now=start + timedelta(hours=8)) is None


async def test_unknown_and_garbage_tokens_stand_for_nobody(db: Database) -> None:
    sessions = Sessions(db)
    opened = await sessions.open(OPS)
    for forged in (opened.token[:-1], opened.csrf, "", "garbage", "x" * 5000, "ops-1|admin|"):
        assert await sessions.principal(forged) is None, forged
