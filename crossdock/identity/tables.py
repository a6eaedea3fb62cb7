"""Storage models for operator accounts and their API tokens (not the API's models)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String
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
