"""Each store test runs on SQLite and on PostgreSQL (a fresh database per test).

PostgreSQL is the one at `CROSSDOCK_TEST_POSTGRES_URL` (default: 127.0.0.1:5432, trust
auth, database `test`, as on the project's machines and CI). Where it cannot be reached
the PostgreSQL cases skip, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crossdock.store import Database, normalise_url, upgrade

POSTGRES_URL = os.environ.get(
    "CROSSDOCK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_unreachable() -> str:
    try:
        engine = create_engine(normalise_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"PostgreSQL at {POSTGRES_URL} is unreachable ({first_line})"
    return ""


@pytest.fixture(scope="session")
def postgres_problem() -> str:
    return _postgres_unreachable()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_problem: str
) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crossdock.db'}"
        return
    if postgres_problem:
        pytest.skip(postgres_problem)
    name = f"crossdock_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(normalise_url(POSTGRES_URL))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database."""
    database = Database(database_url)
    upgrade(database)
    try:
        yield database
    finally:
        database.dispose()
