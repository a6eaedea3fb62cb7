"""The login throttle and the password check's timing: delays grow after the third
failure, the tenth locks the id (longer each further failure), success resets; an
unknown account id costs as much as a wrong password."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crossdock.identity import Accounts, AuthenticationFailed
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


def test_an_unknown_account_takes_as_long_as_a_wrong_password(db: Database) -> None:
    accounts = Accounts(db)
    accounts.add("ops-1", Role.OPERATOR, "a long enough password")
    accounts.add("tok-1", Role.OPERATOR)  # API tokens only, no password

    def seconds(account_id: str) -> float:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            with pytest.raises(AuthenticationFailed):
                accounts.by_password(account_id, "not the password!")
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    known = seconds("ops-1")
    assert seconds("nobody-99") > known * 0.5
    assert seconds("tok-1") > known * 0.5
