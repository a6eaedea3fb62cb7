"""The login throttle and the password check's timing: delays grow after the third
failure, the tenth locks the id (longer each further failure), success resets; an
unknown account id costs as much as a wrong password."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crossdock.identity import Accounts, AuthenticationFailed, passwords
from crossdock.identity.throttle import LoginThrottle, ThrottlePolicy
from crossdock.models.approval import Role
from crossdock.store import Database, upgrade

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'console.db'}")
    upgrade(database)
    yield database
    database.dispose()


def test_delays_grow_then_the_id_is_locked_for_longer_each_time(db: Database) -> None:
    throttle = LoginThrottle(db, ThrottlePolicy())
    delays = []
    for n in range(9):
        delays.append(throttle.verdict("ops-1", now=T0 + timedelta(seconds=n)).delay)
        throttle.failed("ops-1", now=T0 + timedelta(seconds=n))
    assert delays == [0, 0, 0, 0.5, 1, 2, 4, 8, 8]
    throttle.failed("ops-1", now=T0 + timedelta(seconds=10))
    locked = throttle.verdict("ops-1", now=T0 + timedelta(seconds=11))
    assert 15 * 60 - 2 < locked.locked_for <= 15 * 60
    throttle.failed("ops-1", now=T0 + timedelta(seconds=12))
    assert throttle.verdict("ops-1", now=T0 + timedelta(seconds=13)).locked_for > 29 * 60
    # Other ids are untouched; a success or an admin's unlock starts again.
    assert throttle.verdict("ops-2", now=T0).delay == 0
    throttle.unlock("ops-1")
    assert throttle.verdict("ops-1", now=T0 + timedelta(seconds=14)).locked_for == 0


def test_old_failures_are_forgotten(db: Database) -> None:
    throttle = LoginThrottle(db, ThrottlePolicy(free_failures=0))
    throttle.failed("ops-1", now=T0)
    assert throttle.verdict("ops-1", now=T0 + timedelta(hours=1)).delay > 0
    assert throttle.verdict("ops-1", now=T0 + timedelta(days=2)).delay == 0


def test_an_unknown_account_costs_what_a_wrong_password_costs(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counted, not timed: the same scrypt work on every path is what keeps the timing
    # from telling which ids exist, and a count does not flake on a loaded machine.
    accounts = Accounts(db)
    accounts.add("ops-1", Role.OPERATOR, "a long enough password")
    accounts.add("tok-1", Role.OPERATOR)  # API tokens only, no password
    scrypt = passwords._scrypt
    calls: list[tuple[int, int, int]] = []

    def counted(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        calls.append((n, r, p))
        return scrypt(password, salt, n, r, p)

    monkeypatch.setattr(passwords, "_scrypt", counted)
    passwords.dummy_check("warm the cached dummy hash")

    def work(account_id: str) -> list[tuple[int, int, int]]:
        calls.clear()
        with pytest.raises(AuthenticationFailed):
            accounts.by_password(account_id, "not the password!")
        return list(calls)

    known = work("ops-1")
    assert known == [(passwords.N, passwords.R, passwords.P)]
    assert work("nobody-99") == known
    assert work("tok-1") == known
