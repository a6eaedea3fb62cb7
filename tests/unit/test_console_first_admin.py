"""`make run`'s first console account: created once on an empty users table, its
password and token work, a second run creates nothing."""

from __future__ import annotations

from pathlib import Path

from crossdock.config import Settings
from crossdock.console.first_admin import ensure_first_admin
from crossdock.identity import Accounts
from crossdock.models.approval import Role
from crossdock.store import Database, upgrade


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
    db.dispose()
