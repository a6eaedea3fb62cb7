"""Storage models for operator accounts and their API tokens (not the API's models)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crossdock.store import Base


class UserRow(Base):
    __tablename__ = "users"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    # scrypt; NULL for accounts that only use API tokens (no web login).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Channels the account works on, comma-separated; NULL: every one (identity/scope.py).
    marketplaces: Mapped[str | None] = mapped_column(String(64))
    # Destination countries (ISO alpha-2), comma-separated; NULL: every one.
    countries: Mapped[str | None] = mapped_column(String(800))


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("users.account_id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    # The token itself is shown once; only its SHA-256 is kept.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so a person can tell tokens apart in `crossdock users list`.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # NULL: until revoked (tokens an admin issues); set for the first run's token.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSessionRow(Base):
    """A web login: the cookie holds a random token, the table only its SHA-256, so a
    session ends when its row goes (logout, account disabled) whatever the cookie says."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("users.account_id"), index=True)
    # The token the session's forms must send back (CSRF); not a credential on its own.
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailureRow(Base):
    """Wrong passwords per account id (known or not, so the table cannot tell which
    exist), for the login throttle; a successful login deletes the row."""

    __tablename__ = "login_failures"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
