"""The hash-chained audit log: appends, and `verify` catching each kind of tampering."""

from __future__ import annotations

import itertools

from sqlalchemy import delete, update

from crossdock.audit import AuditLog, DecisionAttempt, Outcome
from crossdock.audit.log import AuditHeadRow, AuditLogRow
from crossdock.models.approval import Principal, Role
from crossdock.store import Database

OPS = Principal(id="ops-7", role=Role.OPERATOR)
FIN = Principal(id="fin-2", role=Role.FINANCE)


def _fill(db: Database, count: int = 4) -> AuditLog:
    log = AuditLog(db)
    for n in range(count):
        refused = n % 2 == 1
        log.append(
            DecisionAttempt(
                workflow_id=f"order-storefront-SF{n}",
                action="decide",
                by=OPS if refused else FIN,
                outcome=Outcome.REFUSED if refused else Outcome.ACCEPTED,
                reason="role 'operator' may not decide 'refund'" if refused else "checked",
                detail={"key": "review", "action": "approve", "amount": {"amount": 1800}},
            )
        )
    return log


def test_appended_entries_chain_and_verify(db: Database) -> None:
    log = _fill(db)
    entries = log.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert entries[1].outcome is Outcome.REFUSED and entries[1].principal_id == "ops-7"
    assert entries[0].detail["amount"] == {"amount": 1800}
    report = log.verify()
    assert report.intact, report.problems
    assert (report.entries, report.head_seq, report.head_hash) == (4, 4, entries[-1].hash)


def test_entries_of_one_workflow(db: Database) -> None:
    log = _fill(db)
    assert [e.seq for e in log.entries("order-storefront-SF2")] == [3]


def test_empty_log_verifies(db: Database) -> None:
    assert AuditLog(db).verify().intact


def test_edited_entry_is_detected(db: Database) -> None:
    log = _fill(db)
    with db.session() as session:
        session.execute(update(AuditLogRow).where(AuditLogRow.seq == 2).values(outcome="accepted"))
    assert log.verify().problems == ["entry 2 was edited: its content no longer matches its hash"]


def test_edited_and_rehashed_entry_breaks_the_next_link(db: Database) -> None:
    log = _fill(db)
    with db.session() as session:
        session.execute(update(AuditLogRow).where(AuditLogRow.seq == 2).values(hash="f" * 64))
    problems = log.verify().problems
    assert "entry 2 was edited: its content no longer matches its hash" in problems
    assert any(p.startswith("entry 3 does not follow") for p in problems)


def test_deleted_entry_is_detected(db: Database) -> None:
    log = _fill(db)
    with db.session() as session:
        session.execute(delete(AuditLogRow).where(AuditLogRow.seq == 2))
    problems = log.verify().problems
    assert problems[0] == "entry 2 is missing (next is 3): entries were deleted"
    assert any("entry 3 does not follow" in p for p in problems)


def test_reordered_entries_are_detected(db: Database) -> None:
    log = _fill(db)
    with db.session() as session:  # swap entries 2 and 3
        session.execute(update(AuditLogRow).where(AuditLogRow.seq == 2).values(seq=-2))
        session.execute(update(AuditLogRow).where(AuditLogRow.seq == 3).values(seq=2))
        session.execute(update(AuditLogRow).where(AuditLogRow.seq == -2).values(seq=3))
    problems = log.verify().problems
    assert "entry 2 does not follow the entry before it" in problems[0]
    assert "entry 2 was edited: its content no longer matches its hash" in problems


def test_truncated_log_is_detected(db: Database) -> None:
    log = _fill(db)
    with db.session() as session:
        session.execute(delete(AuditLogRow).where(AuditLogRow.seq >= 3))
    assert log.verify().problems == [
        "the log ends at entry 2 but its head records entry 4 "
        f"({log.verify().head_hash[:12]}): entries were truncated or the head was altered"
    ]


def test_truncation_with_head_rewound_is_caught_by_an_anchor(db: Database) -> None:
    log = _fill(db)
    anchor = (4, log.verify().head_hash)
    kept = log.entries()[1]
    with db.session() as session:
        session.execute(delete(AuditLogRow).where(AuditLogRow.seq >= 3))
        session.execute(update(AuditHeadRow).values(seq=2, hash=kept.hash))
    assert log.verify().intact  # indistinguishable from a shorter log...
    assert log.verify(anchor=anchor).problems == ["anchored entry 4 is gone"]  # ...but anchored


def test_appends_after_verify_continue_the_chain(db: Database) -> None:
    log = _fill(db, 2)
    log.verify()
    _fill(db, 1)
    assert [e.seq for e in log.entries()] == [1, 2, 3]
    assert log.verify().intact


def test_concurrent_appenders_keep_one_chain(db: Database) -> None:
    # Console replicas append at once: each must chain onto the other's entry, never
    # both onto the same head.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: _fill(db, 5), range(4)))
    log = AuditLog(db)
    assert [e.seq for e in log.entries()] == list(range(1, 21))
    assert log.verify().intact
