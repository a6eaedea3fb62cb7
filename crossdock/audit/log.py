"""The audit log: every decision attempt, accepted or refused, hash-chained.

Temporal keeps no trace of a rejected update, so the console writes each attempt here
(`AuditLog.append`). Entries are only ever appended: each stores the hash of the one
before it and a hash over its own content and that link, and `audit_head` records the
last entry. `AuditLog.verify` recomputes the chain and reports an edited entry (its
hash no longer matches), a deleted or reordered one (a gap or a broken link) and a
truncated log (the chain ends before the head). Someone able to rewrite the whole
chain and the head can only be caught against a head recorded elsewhere: `verify`
prints the head, and `verify(anchor=...)` checks an earlier one still holds.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from crossdock.models.approval import Principal
from crossdock.store import Base, Database

GENESIS = "0" * 64


class AuditLogRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    workflow_id: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(64))
    principal_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"


class DecisionAttempt(BaseModel):
    """What the console tried on a workflow on someone's behalf, and how it ended."""

    workflow_id: str = Field(min_length=1, max_length=255)
    # The update (or action) name: decide, cancel, correct_address, ...
    action: str = Field(min_length=1, max_length=64)
    by: Principal
    outcome: Outcome
    # Why: the operator's reason when accepted, the refusal message when refused.
    reason: str = ""
    # The decision's own fields (key, action, option, amount), for the timeline.
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditEntry(BaseModel):
    """One stored entry, as `crossdock audit` and the console show it."""

    seq: int
    at: datetime
    workflow_id: str
    action: str
    principal_id: str
    role: str
    outcome: Outcome
    reason: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class Verification(BaseModel):
    """What `verify` found: `problems` is empty when the chain is intact."""

    entries: int
    head_seq: int
    head_hash: str
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


class AuditLog:
    """The audit log in Crossdock's database (migration 0002)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, attempt: DecisionAttempt, at: datetime | None = None) -> AuditEntry:
        """Append one attempt to the chain; concurrent appenders queue on the head row."""
        with self._db.session() as session:
            # FOR UPDATE on PostgreSQL; SQLite transactions start IMMEDIATE (store).
            head = session.scalars(
                select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()
            ).one()
            fields = _fields(attempt, head.seq + 1, at or datetime.now(UTC), head.hash)
            digest = entry_hash(fields)
            row = AuditLogRow(**{**fields, "detail": _canonical(attempt.detail)}, hash=digest)
            session.add(row)
            head.seq, head.hash = row.seq, digest
            session.flush()
            return _view(row)

    def entries(self, workflow_id: str | None = None) -> list[AuditEntry]:
        """Entries in order, all or those about one workflow."""
        query = select(AuditLogRow).order_by(AuditLogRow.seq)
        if workflow_id is not None:
            query = query.where(AuditLogRow.workflow_id == workflow_id)
        with self._db.session() as session:
            return [_view(row) for row in session.scalars(query)]

    def verify(self, anchor: tuple[int, str] | None = None) -> Verification:
        """Recompute the chain; `anchor` is a (seq, hash) recorded earlier elsewhere."""
        with self._db.session() as session:
            rows = list(session.scalars(select(AuditLogRow).order_by(AuditLogRow.seq)))
            head = session.get(AuditHeadRow, 1)
        problems = _chain_problems(rows)
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
        last_seq, last_hash = (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS)
        if (last_seq, last_hash) != (head_seq, head_hash):
            problems.append(
                f"the log ends at entry {last_seq} but its head records entry {head_seq} "
                f"({head_hash[:12]}): entries were truncated or the head was altered"
            )
        if anchor is not None:
            problems += _anchor_problems(rows, anchor)
        return Verification(
            entries=len(rows), head_seq=head_seq, head_hash=head_hash, problems=problems
        )


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over an entry's canonical content, which includes the previous hash."""
    return hashlib.sha256(_canonical(fields).encode()).hexdigest()


def _fields(attempt: DecisionAttempt, seq: int, at: datetime, prev_hash: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at,
        "workflow_id": attempt.workflow_id,
        "action": attempt.action,
        "principal_id": attempt.by.id,
        "role": attempt.by.role.value,
        "outcome": attempt.outcome.value,
        "reason": attempt.reason,
        "detail": attempt.detail,
        "prev_hash": prev_hash,
    }


def _row_fields(row: AuditLogRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at,
        "workflow_id": row.workflow_id,
        "action": row.action,
        "principal_id": row.principal_id,
        "role": row.role,
        "outcome": row.outcome,
        "reason": row.reason,
        "detail": json.loads(row.detail),
        "prev_hash": row.prev_hash,
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_encode)


def _encode(value: Any) -> str:
    if isinstance(value, datetime):
        # SQLite hands datetimes back without their zone: hash them as UTC either way.
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    raise TypeError(f"cannot hash {type(value).__name__} in an audit entry")


def _chain_problems(rows: list[AuditLogRow]) -> list[str]:
    problems = []
    prev_hash = GENESIS
    for expected, row in enumerate(rows, start=1):
        if row.seq != expected:
            problems.append(
                f"entry {expected} is missing (next is {row.seq}): entries were deleted"
            )
        if row.prev_hash != prev_hash:
            problems.append(
                f"entry {row.seq} does not follow the entry before it: "
                "entries were deleted, reordered or rewritten"
            )
        if entry_hash(_row_fields(row)) != row.hash:
            problems.append(f"entry {row.seq} was edited: its content no longer matches its hash")
        prev_hash = row.hash
    return problems


def _anchor_problems(rows: list[AuditLogRow], anchor: tuple[int, str]) -> list[str]:
    seq, expected = anchor
    found = next((row.hash for row in rows if row.seq == seq), None)
    if found is None:
        return [f"anchored entry {seq} is gone"]
    if found != expected:
        return [f"entry {seq} hash is {found[:12]}, not the anchored {expected[:12]}"]
    return []


def _view(row: AuditLogRow) -> AuditEntry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return AuditEntry(
        seq=row.seq,
        at=at,
        workflow_id=row.workflow_id,
        action=row.action,
        principal_id=row.principal_id,
        role=row.role,
        outcome=Outcome(row.outcome),
        reason=row.reason,
        detail=json.loads(row.detail),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
