"""Engine and sessions from one URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from crossdock.config import Settings

# PostgreSQL URLs without a driver get psycopg 3 (the driver this project installs).
POSTGRES_DRIVER = "postgresql+psycopg"


class Base(DeclarativeBase):
    """Every Crossdock table; migrations are hand-written, the metadata is for reading."""


def database_url(settings: Settings) -> str:
    """`CROSSDOCK_DATABASE_URL`, or a SQLite file in the state dir."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    return f"sqlite:///{(settings.state_dir / 'crossdock.db').resolve()}"


def normalise_url(url: str) -> str:
    """`url` with the psycopg driver for PostgreSQL; other URLs unchanged.

    Raises:
        ValueError: `url` is neither SQLite nor PostgreSQL.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername=POSTGRES_DRIVER).render_as_string(hide_password=False)
    if backend != "sqlite":
        raise ValueError(
            f"CROSSDOCK_DATABASE_URL {parsed.drivername!r} is not supported; "
            "use sqlite:///path or postgresql://user@host:port/db"
        )
    return url


class Database:
    """One engine and its session factory; `with db.session() as s:` commits or rolls back."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = _engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(database_url(settings))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_pragmas(connection: object, record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    # WAL lets the console read while a CLI writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin_immediate).
    connection.isolation_level = None  # type: ignore[attr-defined]


def _sqlite_begin_immediate(connection: object) -> None:
    # Take the write lock when the transaction starts, not at its first write: two
    # processes appending to the audit chain then queue instead of both reading the
    # same head and failing with "database is locked" on upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[attr-defined]
