"""`make run`'s first console account: created once on an empty users table, its
password and token work (the token only for a day), a second run creates nothing, and
the credentials reach a terminal or a 0600 file, never the log."""

from __future__ import annotations

import io
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from crossdock.config import Settings
from crossdock.console.first_admin import announce_first_admin, ensure_first_admin
from crossdock.identity import Accounts, AuthenticationFailed
from crossdock.identity.tables import ApiTokenRow
from crossdock.models.approval import Role
from crossdock.store import Database, upgrade


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_first_admin_is_created_once_and_can_log_in(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, _env_file=None)
    db = Database.from_settings(settings)
    upgrade(db)
    first = ensure_first_admin(settings)
    again = ensure_first_admin(settings)
    accounts = Accounts(db)
    assert first is not None and again is None
    assert accounts.by_password(first.account_id, first.password).role is Role.ADMIN
    assert accounts.by_token(first.token).id == "admin"
    assert [a.account_id for a in accounts.all()] == ["admin"]
    banner = first.banner("http://127.0.0.1:8000")
    assert "http://127.0.0.1:8000/console as admin / " + first.password in banner
    assert f"CROSSDOCK_TOKEN={first.token}" in banner
    # The token is for the first day only.
    with db.session() as session:
        session.execute(update(ApiTokenRow).values(expires_at=datetime.now(UTC) - timedelta(1)))
    with pytest.raises(AuthenticationFailed, match="expired"):
        accounts.by_token(first.token)
    db.dispose()


def test_without_a_terminal_the_credentials_go_to_a_private_file(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, _env_file=None)
    upgrade(Database.from_settings(settings))
    first = ensure_first_admin(settings)
    assert first is not None
    log, not_a_tty = io.StringIO(), io.StringIO()
    path = announce_first_admin(first, settings, log=log, terminal=not_a_tty)
    assert path == tmp_path / "first-admin.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.password in path.read_text() and first.token in path.read_text()
    for written in (log.getvalue(), not_a_tty.getvalue()):
        assert first.password not in written and first.token not in written
    assert str(path) in log.getvalue()


def test_on_a_terminal_the_credentials_are_shown_there_only(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, _env_file=None)
    upgrade(Database.from_settings(settings))
    first = ensure_first_admin(settings)
    assert first is not None
    log, terminal = io.StringIO(), Terminal()
    assert announce_first_admin(first, settings, log=log, terminal=terminal) is None
    assert first.password in terminal.getvalue()
    assert first.password not in log.getvalue() and first.token not in log.getvalue()
    assert not (tmp_path / "first-admin.txt").exists()
