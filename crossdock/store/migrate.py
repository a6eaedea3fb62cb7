"""Alembic migrations kept in this package, applied from code (`crossdock db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from crossdock.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    """Alembic's configuration for `db`, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "head") -> str:
    """Apply every migration up to `revision`; returns the revision the database is at."""
    command.upgrade(alembic_config(db), revision)
    return current_revision(db) or "base"


def current_revision(db: Database) -> str | None:
    """The revision the database is at; None before the first migration."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest migration in the package.

    Raises:
        RuntimeError: Two migrations name the same `down_revision` (two branches added
            at once); renumber one to follow the other.
    """
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    if len(heads) != 1:
        raise RuntimeError(
            f"migrations have {len(heads)} heads {sorted(heads)}; make one follow the other"
        )
    return heads[0]
