"""Web console sessions, kept server-side so they can be ended.

A login opens a row keyed by the SHA-256 of a random token; the browser's cookie holds
the token. Each request looks the row up: logout deletes it, disabling the account
deletes all of the account's rows, and a row past `expires_at` stands for nobody. The
role is read from the account on every request, so a changed role applies at once.
Each session also has a CSRF token its forms must send back (crossdock.console.guard).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from crossdock.identity.accounts import token_digest
from crossdock.identity.tables import ConsoleSessionRow, UserRow
from crossdock.models.approval import Principal, Role
from crossdock.store import Database

SESSION_LENGTH = timedelta(hours=8)


@dataclass(frozen=True)
class OpenedSession:
    """A new session: `token` goes into the cookie, `csrf` into the session's forms."""

    token: str
    csrf: str


@dataclass(frozen=True)
class WebSession:
    """A live session: who it stands for and the CSRF token its forms carry."""

    principal: Principal
    csrf: str


class SessionStore:
    """Console sessions in Crossdock's database."""

    def __init__(self, db: Database, length: timedelta = SESSION_LENGTH) -> None:
        self._db = db
        self.length = length

    def open(self, account_id: str, now: datetime | None = None) -> OpenedSession:
        """A session for `account_id` (already authenticated), valid for `length`."""
        opened = OpenedSession(token=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32))
        at = now or datetime.now(UTC)
        with self._db.session() as session:
            # Expired rows of anyone go when someone logs in: the table stays small.
            session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= at))
            session.add(
                ConsoleSessionRow(
                    token_hash=token_digest(opened.token),
                    account_id=account_id,
                    csrf=opened.csrf,
                    created_at=at,
                    expires_at=at + self.length,
                )
            )
        return opened

    def find(self, token: str, now: datetime | None = None) -> WebSession | None:
        """The session a cookie's token stands for; None when ended, expired, unknown
        or its account is disabled."""
        at = now or datetime.now(UTC)
        with self._db.session() as session:
            found = session.execute(
                select(ConsoleSessionRow, UserRow)
                .join(UserRow, UserRow.account_id == ConsoleSessionRow.account_id)
                .where(ConsoleSessionRow.token_hash == token_digest(token))
            ).first()
            if found is None:
                return None
            row, user = found
            if user.disabled or _aware(row.expires_at) <= at:
                return None
            return WebSession(Principal(id=user.account_id, role=Role(user.role)), row.csrf)

    def close(self, token: str) -> None:
        """End one session (logout)."""
        with self._db.session() as session:
            session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == token_digest(token))
            )

    def close_all(self, account_id: str) -> int:
        """End every session of an account (disabled, password changed); how many."""
        with self._db.session() as session:
            result = session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.account_id == account_id)
            )
            return int(getattr(result, "rowcount", 0) or 0)


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns.
    return at if at.tzinfo else at.replace(tzinfo=UTC)
