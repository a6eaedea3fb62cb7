"""Web session cookies: the operator they were issued for, nothing for a forged, altered
or foreign cookie, and nothing once the account is disabled (expiry is the claim's own,
tested with the claims)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crossdock.console.auth import Sessions
from crossdock.identity import Accounts, ClaimSigner
from crossdock.models.approval import Principal, Role
from crossdock.store import Database, upgrade

KEY = b"k" * 32


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'console.db'}")
    upgrade(database)
    Accounts(database).add("ops-1", Role.OPERATOR, "a long enough password")
    yield database
    database.dispose()


async def test_a_session_cookie_stands_for_its_operator_until_disabled(db: Database) -> None:
    sessions = Sessions(KEY, db)
    ops = Principal(id="ops-1", role=Role.OPERATOR)
    cookie = sessions.cookie_for(ops)
    assert await sessions.principal(cookie) == ops
    Accounts(db).disable("ops-1")
    assert await sessions.principal(cookie) is None


async def test_forged_altered_and_foreign_cookies_stand_for_nobody(db: Database) -> None:
    sessions = Sessions(KEY, db)
    cookie = sessions.cookie_for(Principal(id="ops-1", role=Role.OPERATOR))
    promoted = cookie.replace("|operator|", "|admin|")
    other_key = Sessions(b"x" * 32, db).cookie_for(Principal(id="ops-1", role=Role.OPERATOR))
    # A claim the console signed for a workflow is not a session.
    signed = ClaimSigner(KEY).sign(Principal(id="ops-1", role=Role.OPERATOR), "console-session")
    workflow_claim = f"ops-1|operator|{signed.claim}"
    for forged in (promoted, other_key, workflow_claim, "ops-1|operator|", "garbage", "|||"):
        assert await sessions.principal(forged) is None, forged
