"""Writing projections: a head row and its children, only ever forwards."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crossdock.readmodel.tables import CHILDREN, HEADS, RmOrder
from crossdock.store import Base, Database

HeadType = type[Base]


class ReadModelStore:
    """The rm_* tables in Crossdock's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def write(self, rows: list[Base]) -> tuple[bool, int]:
        """Replace one workflow's rows with `rows` (its head first) unless the stored head
        has the same or a higher sequence number. Returns (written, stored seq)."""
        head = rows[0]
        try:
            return self._write(head, rows)
        except IntegrityError:
            # Another attempt inserted the head between our read and our insert.
            return self._write(head, rows)

    def _write(self, head: Base, rows: list[Base]) -> tuple[bool, int]:
        kind = type(head)
        workflow_id: str = head.workflow_id  # type: ignore[attr-defined]
        seq: int = head.seq  # type: ignore[attr-defined]
        with self.db.session() as session:
            stored = _stored_seq(session, kind, workflow_id)
            if stored is not None and stored >= seq:
                return False, stored
            _clear(session, kind, workflow_id)
            session.add_all(rows)
        return True, seq

    def clear(self) -> None:
        """Empty every rm_* table (before a rebuild)."""
        with self.db.session() as session:
            for table in (*CHILDREN, *HEADS):
                session.execute(delete(table))

    def count_orders(self) -> int:
        with self.db.session() as session:
            return len(session.scalars(select(RmOrder.workflow_id)).all())


def _stored_seq(session: Session, kind: HeadType, workflow_id: str) -> int | None:
    query = select(kind.seq).where(kind.workflow_id == workflow_id)  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    value = session.scalar(query)
    return None if value is None else int(value)


def _clear(session: Session, kind: HeadType, workflow_id: str) -> None:
    session.execute(delete(kind).where(kind.workflow_id == workflow_id))  # type: ignore[attr-defined]
    for child in CHILDREN:
        # Children of another kind of workflow never share its id (ids carry the kind).
        session.execute(delete(child).where(child.workflow_id == workflow_id))
