"""Operator accounts and API tokens: create, list, disable, authenticate.

An account id is what lands in workflow histories and the audit log ("ops-7"), so it is
an id, never a person's name or e-mail. Tokens are random, shown once, stored as SHA-256;
passwords (for the web login) as scrypt.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crossdock.identity.password_policy import password_problem
from crossdock.identity.passwords import dummy_check, hash_password, password_matches
from crossdock.identity.scope import (
    NOTHING,
    Scope,
    countries_text,
    parse_scope,
    scope_text,
    stored_scope,
)
from crossdock.identity.tables import ApiTokenRow, ConsoleSessionRow, UserRow
from crossdock.models.approval import Principal, Role
from crossdock.store import Database

ACCOUNT_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,63}$")
TOKEN_PREFIX = "cdk_"


class IdentityError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


class AuthenticationFailed(Exception):
    """Unknown or revoked token, wrong password, or a disabled account.

    The message is for logs; what a caller shows a client should not say which it was.
    """


class Account(BaseModel):
    """An operator account as the CLI and console show it."""

    account_id: str
    role: Role
    disabled: bool
    has_password: bool
    tokens: list[str]
    # None: every channel.
    marketplaces: list[str] | None = None
    # Destination countries (ISO alpha-2); None: every country.
    countries: list[str] | None = None
    created_at: datetime


class IssuedToken(BaseModel):
    """A new API token: `token` is shown once and never stored."""

    account_id: str
    name: str
    token: str
    prefix: str


class Accounts:
    """Accounts in Crossdock's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        account_id: str,
        role: Role,
        password: str | None = None,
        marketplaces: Collection[str] | None = None,
        countries: Collection[str] | None = None,
    ) -> Account:
        """Create an account, for every case or only `marketplaces` and/or `countries`
        (destinations, ISO 3166 alpha-2).

        Raises:
            IdentityError: The id is malformed or taken, the password weak, or a
                marketplace or country unknown.
        """
        if not ACCOUNT_ID.match(account_id):
            raise IdentityError(
                f"account id {account_id!r} must be 1-64 lowercase letters, digits or . _ : -, "
                "starting with a letter or digit (an id like 'ops-7', never a name)"
            )
        try:
            scoped = scope_text(marketplaces)
            destinations = countries_text(countries)
        except ValueError as err:
            raise IdentityError(str(err)) from None
        with self._db.session() as session:
            if session.get(UserRow, account_id) is not None:
                raise IdentityError(f"account {account_id!r} already exists")
            row = UserRow(
                account_id=account_id,
                role=role.value,
                password_hash=_checked_hash(password, account_id) if password is not None else None,
                disabled=False,
                created_at=datetime.now(UTC),
                marketplaces=scoped,
                countries=destinations,
            )
            session.add(row)
            return _view(row, [])

    def scope(self, account_id: str) -> Scope:
        """The channels and countries `account_id` works on (None: every case; unknown
        ids: none)."""
        with self._db.session() as session:
            row = session.get(UserRow, account_id)
            return NOTHING if row is None else stored_scope(row.marketplaces, row.countries)

    def set_password(self, account_id: str, password: str) -> None:
        """Set (or replace) the web login password; the account's sessions end."""
        with self._db.session() as session:
            _existing(session, account_id).password_hash = _checked_hash(password, account_id)
            _end_sessions(session, account_id)

    def all(self) -> list[Account]:
        """Every account, by id, with the prefixes of its tokens."""
        with self._db.session() as session:
            users = session.scalars(select(UserRow).order_by(UserRow.account_id)).all()
            tokens = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)).all()
            return [
                _view(user, [t.prefix for t in tokens if t.account_id == user.account_id])
                for user in users
            ]

    def disable(self, account_id: str) -> Account:
        """Disable an account: its tokens, password and sessions stop working at once."""
        with self._db.session() as session:
            row = _existing(session, account_id)
            row.disabled = True
            _end_sessions(session, account_id)
            prefixes = session.scalars(
                select(ApiTokenRow.prefix).where(ApiTokenRow.account_id == account_id)
            ).all()
            return _view(row, list(prefixes))

    def issue_token(
        self, account_id: str, name: str = "cli", valid_for: timedelta | None = None
    ) -> IssuedToken:
        """A new API token for an enabled account; with `valid_for` it expires.

        Raises:
            IdentityError: The account does not exist or is disabled.
        """
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        prefix = token[: len(TOKEN_PREFIX) + 6]
        with self._db.session() as session:
            row = _existing(session, account_id)
            if row.disabled:
                raise IdentityError(f"account {account_id!r} is disabled; it gets no tokens")
            session.add(
                ApiTokenRow(
                    account_id=account_id,
                    name=name[:64],
                    token_hash=token_digest(token),
                    prefix=prefix,
                    created_at=datetime.now(UTC),
                    expires_at=datetime.now(UTC) + valid_for if valid_for else None,
                )
            )
        return IssuedToken(account_id=account_id, name=name, token=token, prefix=prefix)

    def by_token(self, token: str) -> Principal:
        """The principal an API token stands for.

        Raises:
            AuthenticationFailed: Unknown token or disabled account.
        """
        with self._db.session() as session:
            found = session.execute(
                select(ApiTokenRow, UserRow)
                .join(UserRow, UserRow.account_id == ApiTokenRow.account_id)
                .where(ApiTokenRow.token_hash == token_digest(token))
            ).first()
            if found is None:
                raise AuthenticationFailed("unknown API token")
            token_row, user = found
            expires = token_row.expires_at
            if expires is not None and _aware(expires) <= datetime.now(UTC):
                raise AuthenticationFailed(f"API token {token_row.prefix} expired")
            if user.disabled:
                raise AuthenticationFailed(f"account {user.account_id} is disabled")
            token_row.last_used_at = datetime.now(UTC)
            return Principal(id=user.account_id, role=Role(user.role))

    def by_password(self, account_id: str, password: str) -> Principal:
        """The principal a web login stands for.

        An id without a password login costs a full scrypt check too, so the answer's
        timing does not tell which ids have one.

        Raises:
            AuthenticationFailed: Unknown account, no or wrong password, or disabled.
        """
        with self._db.session() as session:
            user = session.get(UserRow, account_id)
            if user is None or user.password_hash is None:
                dummy_check(password)
                raise AuthenticationFailed(f"no password login for {account_id!r}")
            if not password_matches(password, user.password_hash):
                raise AuthenticationFailed(f"wrong password for {account_id!r}")
            if user.disabled:
                raise AuthenticationFailed(f"account {account_id} is disabled")
            return Principal(id=user.account_id, role=Role(user.role))


def token_digest(token: str) -> str:
    """What is stored for a token: a random 256-bit token needs no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def _checked_hash(password: str, account_id: str) -> str:
    problem = password_problem(password, account_id)
    if problem:
        raise IdentityError(problem)
    return hash_password(password)


def _end_sessions(session: Session, account_id: str) -> None:
    session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.account_id == account_id))


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns.
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _existing(session: Session, account_id: str) -> UserRow:
    row = session.get(UserRow, account_id)
    if row is None:
        raise IdentityError(f"no account {account_id!r}; see `crossdock users list`")
    return row


def _view(row: UserRow, tokens: list[str]) -> Account:
    return Account(
        account_id=row.account_id,
        role=Role(row.role),
        disabled=row.disabled,
        has_password=row.password_hash is not None,
        tokens=tokens,
        created_at=row.created_at,
        marketplaces=sorted(parse_scope(row.marketplaces) or []) if row.marketplaces else None,
        countries=sorted(parse_scope(row.countries) or []) if row.countries else None,
    )
