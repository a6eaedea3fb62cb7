"""The store: URLs, migrations applied from code on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from crossdock.config import Settings
from crossdock.store import Database, current_revision, database_url, head_revision, upgrade
from crossdock.store.database import normalise_url


def test_default_url_is_a_sqlite_file_in_the_state_dir(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state", _env_file=None)
    assert database_url(settings) == f"sqlite:///{(tmp_path / 'state' / 'crossdock.db')}"


def test_postgres_url_gets_the_psycopg_driver() -> None:
    url = normalise_url("postgresql://ops:s3cret@db:5432/crossdock")
    assert url == "postgresql+psycopg://ops:s3cret@db:5432/crossdock"
    assert normalise_url(url) == url


def test_unsupported_database_is_named() -> None:
    with pytest.raises(ValueError, match=r"'mysql' is not supported"):
        normalise_url("mysql://root@localhost/crossdock")


def test_migrations_form_one_line_ending_at_the_newest() -> None:
    from crossdock.store.migrate import MIGRATIONS

    numbered = sorted(p.name.split("_")[0] for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert head_revision() == numbered[-1]  # raises when two migrations branch


def test_upgrade_creates_every_table_and_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert current_revision(db) is None
        assert upgrade(db) == head_revision()
        assert upgrade(db) == head_revision()  # a second start changes nothing
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "api_tokens", "audit_log", "audit_head"} <= tables
    finally:
        db.dispose()


def test_sqlite_file_directory_is_created(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new' / 'dir' / 'crossdock.db'}")
    try:
        upgrade(db)
        assert (tmp_path / "new" / "dir" / "crossdock.db").exists()
    finally:
        db.dispose()


def test_first_make_run_generates_keys_and_migrates(tmp_path: Path) -> None:
    from crossdock.runner import prepare_state

    settings = Settings(state_dir=tmp_path, _env_file=None)
    prepare_state(settings)
    assert {p.name for p in (tmp_path / "keys").iterdir()} == {"codec-keys", "principal-key"}
    keys = (tmp_path / "keys" / "codec-keys").read_text()
    prepare_state(settings)  # a second run keeps the keys (histories stay readable)
    assert (tmp_path / "keys" / "codec-keys").read_text() == keys
    db = Database.from_settings(settings)
    try:
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
