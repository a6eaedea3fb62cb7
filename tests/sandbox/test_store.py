"""The record store on its own: what a unit of work writes, counters and seeded draws
across restarts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from crossdock.sandbox.core.store import RecordStore


@dataclass
class Parcel:
    id: str
    scans: list[str] = field(default_factory=list)


def reopened(path: Path) -> dict[str, Parcel]:
    return {
        parcel.id: parcel for parcel in RecordStore(path).table("test", "parcel", Parcel).peek()
    }


def test_a_unit_writes_what_it_read_and_changed_and_deletions(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = RecordStore(path)
    parcels = store.table("test", "parcel", Parcel)
    with store.unit():
        parcels["p1"] = Parcel("p1")
        parcels["p2"] = Parcel("p2")
    with store.unit():
        parcels["p1"].scans.append("in_transit")  # read, then changed in place
        del parcels["p2"]

    assert reopened(path) == {"p1": Parcel("p1", ["in_transit"])}


def test_a_change_outside_any_unit_is_written_by_the_next_commit(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = RecordStore(path)
    parcels = store.table("test", "parcel", Parcel)
    parcels["p1"] = Parcel("p1")  # no unit: a task that outlived its request, say
    assert reopened(path) == {}
    with store.unit():
        pass

    assert reopened(path) == {"p1": Parcel("p1")}


def test_peek_reads_without_marking_so_changed_must_say_so(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = RecordStore(path)
    parcels = store.table("test", "parcel", Parcel)
    with store.unit():
        parcels["p1"] = Parcel("p1")
    with store.unit():
        parcels.peek()[0].scans.append("lost")
    assert reopened(path)["p1"].scans == []
    with store.unit():
        parcels.changed("p1")

    assert reopened(path)["p1"].scans == ["lost"]


def test_counters_continue_and_draws_change_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    first = RecordStore(path)
    ids = first.counter("test", "feed", 50001)
    handed = [next(ids), next(ids)]
    draws = first.random(7).random()
    first.close()

    second = RecordStore(path)
    assert next(second.counter("test", "feed", 50001)) == 50003
    assert handed == [50001, 50002]
    assert draws == random.Random(7).random(), "the first start draws as Random(seed)"
    assert second.random(7).random() != draws
