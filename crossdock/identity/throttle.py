"""The login throttle: each wrong password for an account id makes the next attempt wait
longer, and many lock the id for a while, so guessing a password online is slow.

Counts live in the database (`login_failures`), so every console replica sees them and a
restart does not reset them. They are kept per account id typed, known or not, so the
throttle answers the same for an id that does not exist. A successful login clears the
count; `crossdock users unlock ACCOUNT` clears it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from crossdock.identity.tables import LoginFailureRow
from crossdock.store import Database

MAX_LOCKOUT = timedelta(hours=24)


@dataclass(frozen=True)
class ThrottlePolicy:
    """After `free_failures` wrong passwords each attempt waits `delay_seconds`, doubling
    per failure up to `max_delay_seconds`; at `lockout_after` the id is locked for
    `lockout_seconds`, doubling per further failure (at most a day). Counts older than
    `forget_after_seconds` start again from zero."""

    free_failures: int = 3
    delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0
    lockout_after: int = 10
    lockout_seconds: float = 15 * 60
    forget_after_seconds: float = 24 * 3600


@dataclass(frozen=True)
class Verdict:
    """Before checking a password: wait `delay` seconds, or refuse for `locked_for`."""

    delay: float
    locked_for: float


class LoginThrottle:
    """Failure counts per account id in Crossdock's database."""

    def __init__(self, db: Database, policy: ThrottlePolicy | None = None) -> None:
        self._db = db
        self.policy = policy or ThrottlePolicy()

    def verdict(self, account_id: str, now: datetime | None = None) -> Verdict:
        """How this attempt for `account_id` must be treated before any password check."""
        at = now or datetime.now(UTC)
        with self._db.session() as session:
            row = session.get(LoginFailureRow, _key(account_id))
            if row is None or self._forgotten(row, at):
                return Verdict(delay=0.0, locked_for=0.0)
            locked_until = _aware(row.locked_until) if row.locked_until else None
            if locked_until is not None and locked_until > at:
                return Verdict(delay=0.0, locked_for=(locked_until - at).total_seconds())
            return Verdict(delay=self._delay(row.failures), locked_for=0.0)

    def failed(self, account_id: str, now: datetime | None = None) -> None:
        """Count a wrong password (or an attempt on an id without one)."""
        at = now or datetime.now(UTC)
        with self._db.session() as session:
            row = session.get(LoginFailureRow, _key(account_id))
            if row is None:
                row = LoginFailureRow(account_id=_key(account_id), failures=0, last_failure_at=at)
                session.add(row)
            elif self._forgotten(row, at):
                row.failures, row.locked_until = 0, None
            row.failures += 1
            row.last_failure_at = at
            beyond = row.failures - self.policy.lockout_after
            if beyond >= 0:
                lock = timedelta(seconds=self.policy.lockout_seconds * 2 ** min(beyond, 16))
                row.locked_until = at + min(lock, MAX_LOCKOUT)

    def succeeded(self, account_id: str) -> None:
        """A correct password: the count starts again."""
        self.unlock(account_id)

    def unlock(self, account_id: str) -> None:
        """Forget the failures of `account_id` (an admin, after checking with the person)."""
        with self._db.session() as session:
            session.execute(
                delete(LoginFailureRow).where(LoginFailureRow.account_id == _key(account_id))
            )

    def _delay(self, failures: int) -> float:
        over = failures - self.policy.free_failures
        if over < 0:
            return 0.0
        return min(self.policy.delay_seconds * float(2**over), self.policy.max_delay_seconds)

    def _forgotten(self, row: LoginFailureRow, at: datetime) -> bool:
        age = at - _aware(row.last_failure_at)
        return age.total_seconds() > self.policy.forget_after_seconds


def _key(account_id: str) -> str:
    # Whatever was typed, bounded: the column holds 64 characters.
    return account_id.strip().lower()[:64]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
