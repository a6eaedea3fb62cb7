"""Sandbox fixtures: the whole partner sandbox on a real port, for the official SDKs.

Every sandbox a test here builds keeps its records in a fresh SQLite file of its own, as
`crossdock sandbox` does under the state dir, and after the test every record in each
file is read back as a restart would: so every test also proves its records survive.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossdock.sandbox import context
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.core.store import RecordStore
from tests.servers import serve


@pytest.fixture(autouse=True)
def sandbox_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A SandboxConfig without a database gets a fresh file under tmp_path; afterwards
    every record in it must read back (StoreError otherwise)."""
    numbers = itertools.count(1)
    stores: list[RecordStore] = []

    def on_file(path: Path | None = None) -> RecordStore:
        if path is not None:  # the test chose its file, and what happens to it
            return RecordStore(path)
        store = RecordStore(tmp_path / f"sandbox-{next(numbers)}.db")
        stores.append(store)
        return store

    monkeypatch.setattr(context, "RecordStore", on_file)
    yield
    for store in stores:
        store.check()


@pytest.fixture(scope="session")
def live_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sandbox served by uvicorn from a background thread; yields its base URL.

    Session-scoped: starting uvicorn costs ~100 ms, and tests use fresh object ids.
    """
    database = tmp_path_factory.mktemp("live-sandbox") / "sandbox.db"
    with serve(create_app(SandboxConfig(database=database))) as url:
        yield url
