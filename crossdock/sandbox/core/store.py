"""The partners' memory: typed records in one SQLite file, written before each answer.

Every partner keeps its objects (intents, labels, feeds, reservations, ...) in a `Table`,
a dict of dataclasses or pydantic models keyed by id, which is the in-memory cache of one
(partner, kind) slice of the `records` table. Partner code reads and mutates its objects
as plain Python; the store finds what changed without being told:

- reading a record (`table[id]`, `.get`, iterating `.values()`) marks it touched in the
  current *unit of work*, a request (`StoreMiddleware`) or one step of a background job
  (`with store.unit(): ...`);
- when the unit commits (before the response's first byte, and when the request ends),
  each touched record is serialised and written if its JSON differs from what the file
  holds, all in one transaction.

So a 2xx the client has seen is on disk: SIGKILL right after it loses nothing. With
`path=None` the store keeps everything in memory only (unit tests of one partner).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import random
import sqlite3
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import TypeAdapter, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    partner TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (partner, kind, id)
) WITHOUT ROWID
"""

Touched = set[tuple[int, str]]  # (id() of the table, record id)


class _Unit:
    """The records one unit of work touched; closed units hand touches to the store."""

    def __init__(self) -> None:
        self.touched: Touched = set()
        self.open = True


# The unit of work running in this context. A task spawned by a request inherits the
# request's unit, and may outlive it: its touches then go to the store's loose set.
_unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar("sandbox_unit", default=None)


@functools.cache
def _adapter(type_: Any) -> TypeAdapter[Any]:
    # Building an adapter costs milliseconds; every sandbox built (tests build hundreds)
    # opens the same forty-odd tables.
    return TypeAdapter(type_)


class StoreError(Exception):
    """The file holds a record this code cannot read (its shape changed): reset the state."""


class Table(MutableMapping[str, T], Generic[T]):
    """One kind of record of one partner: a dict whose changes reach the file."""

    def __init__(self, store: RecordStore, partner: str, kind: str, type_: Any) -> None:
        self._store = store
        self.partner = partner
        self.kind = kind
        self._adapter: TypeAdapter[T] = _adapter(type_)
        self._items: dict[str, T] = {}
        self._saved: dict[str, str] = {}  # id → the JSON the file holds
        for record_id, body in store.load(partner, kind):
            self._items[record_id] = self.read(record_id, body)
            self._saved[record_id] = body

    def read(self, record_id: str, body: str) -> T:
        """A record from its stored JSON; StoreError if it no longer fits its type."""
        try:
            return self._adapter.validate_json(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the record"
            raise StoreError(
                f"{self._store.path}: {self.partner}/{self.kind}/{record_id} no longer "
                f"matches its type ({error.error_count()} problem(s), first {where}: "
                f"{first['msg']}); delete the file to start afresh"
            ) from error

    def __getitem__(self, record_id: str) -> T:
        found = self._items[record_id]
        self._store.touch(self, record_id)
        return found

    def __setitem__(self, record_id: str, record: T) -> None:
        self._items[record_id] = record
        self._store.touch(self, record_id)

    def __delitem__(self, record_id: str) -> None:
        del self._items[record_id]
        self._store.touch(self, record_id)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._items

    def changed(self, record_id: str) -> None:
        """Mark a record changed by code that holds it from before the current unit."""
        self._store.touch(self, record_id)

    def peek(self) -> list[T]:
        """All records, for reading only: unlike `.values()` none is marked touched."""
        return list(self._items.values())

    def changes(self, record_id: str) -> str | Literal[False] | None:
        """The record's JSON if it differs from the file, None if deleted, else False."""
        record = self._items.get(record_id)
        if record is None:
            return None if record_id in self._saved else False
        body = self._adapter.dump_json(record).decode()
        return False if self._saved.get(record_id) == body else body

    def saved(self, record_id: str, body: str | None) -> None:
        if body is None:
            self._saved.pop(record_id, None)
        else:
            self._saved[record_id] = body


# (table, record id, its new JSON or None to delete it)
Write = tuple[Table[Any], str, str | None]


class Counter:
    """A persistent `itertools.count`: ids handed out before a restart are not reused."""

    def __init__(self, table: Table[int], name: str, start: int) -> None:
        self._table = table
        self._name = name
        if name not in table:
            table[name] = start

    def __iter__(self) -> Counter:
        return self

    def __next__(self) -> int:
        value = self._table[self._name]
        self._table[self._name] = value + 1
        return value


class RecordStore:
    """Typed records keyed by (partner, kind, id) in a SQLite file (WAL), or in memory.

    Args:
        path: The database file; created with its folder if missing. None keeps the
            records in memory only, gone with the process.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._loose: Touched = set()  # touched outside any unit; flushed by every commit
        self._db: sqlite3.Connection | None = None
        self._tables: dict[int, Table[Any]] = {}  # every table opened, by id()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit is in the WAL before it returns, so a killed process loses
            # nothing; only a power cut could lose the last commits.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        self._counters: Table[int] = self.table("sandbox", "counter", int)
        # Which start of the sandbox this is: random draws differ per start (ids a seeded
        # generator handed out before a restart must not come again after it).
        self.boot = next(Counter(self._counters, "boot", 1))
        self.commit()

    def load(self, partner: str, kind: str) -> list[tuple[str, str]]:
        if self._db is None:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT id, body FROM records WHERE partner = ? AND kind = ? ORDER BY id",
                (partner, kind),
            ).fetchall()
        return [(str(record_id), str(body)) for record_id, body in rows]

    def table(self, partner: str, kind: str, type_: Any) -> Table[Any]:
        """The records of one kind, loaded from the file; `type_` is their class."""
        table: Table[Any] = Table(self, partner, kind, type_)
        self._tables[id(table)] = table
        return table

    def counter(self, partner: str, kind: str, start: int = 1) -> Counter:
        """A sequence of ids that continues across restarts."""
        return Counter(self._counters, f"{partner}:{kind}", start)

    def random(self, seed: int | str) -> random.Random:
        """A seeded generator: the same draws as `random.Random(seed)` on the first start,
        other (still reproducible) ones after each restart."""
        return random.Random(seed if self.boot == 1 else f"{seed}:boot{self.boot}")

    def touch(self, table: Table[Any], record_id: str) -> None:
        unit = _unit.get()
        touched = unit.touched if unit is not None and unit.open else self._loose
        touched.add((id(table), record_id))

    @contextlib.contextmanager
    def unit(self) -> Iterator[None]:
        """A unit of work (a request, a background job's step), committed at its end."""
        unit = _Unit()
        token = _unit.set(unit)
        try:
            yield
        finally:
            self.commit()
            unit.open = False
            _unit.reset(token)

    def commit(self) -> None:
        """Write every record the current unit (and any code outside a unit) changed."""
        unit = _unit.get()
        pending = set(self._loose)
        self._loose.clear()
        if unit is not None and unit.touched:
            pending |= unit.touched
            unit.touched.clear()
        writes: list[Write] = []
        for table_id, record_id in pending:
            table = self._tables[table_id]
            body = table.changes(record_id)
            if body is not False:
                writes.append((table, record_id, body))
        if not writes:
            return
        if self.path is not None:
            self._write(writes)
        for table, record_id, body in writes:
            table.saved(record_id, body)

    def _write(self, writes: list[Write]) -> None:
        if self._db is None:
            raise StoreError(f"{self.path} was closed; changes after close would be lost")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for table, record_id, body in writes:
                    if body is None:
                        self._db.execute(
                            "DELETE FROM records WHERE partner = ? AND kind = ? AND id = ?",
                            (table.partner, table.kind, record_id),
                        )
                    else:
                        self._db.execute(
                            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                            (table.partner, table.kind, record_id, body),
                        )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def check(self) -> None:
        """Read every record of every open table back from the file, as a restart would
        (StoreError on the first that does not fit its type)."""
        if self.path is None:
            return
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            for table in self._tables.values():
                rows = db.execute(
                    "SELECT id, body FROM records WHERE partner = ? AND kind = ?",
                    (table.partner, table.kind),
                )
                for record_id, body in rows:
                    table.read(str(record_id), str(body))

    def close(self) -> None:
        """Commit what is pending and close the file (once the app has stopped)."""
        self.commit()
        if self._db is not None:
            with self._lock:
                self._db.close()
            self._db = None


class StoreMiddleware:
    """Each request is a unit of work, committed before its response starts.

    Innermost (next to the routes): a fault injected before a handler changes nothing,
    and a handler's changes are on disk before any middleware sends or mangles its answer.
    """

    def __init__(self, app: ASGIApp, store: RecordStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        store = self.store

        async def send_committed(message: Message) -> None:
            if message["type"] == "http.response.start":
                store.commit()
            await send(message)

        with store.unit():
            await self.app(scope, receive, send_committed)
