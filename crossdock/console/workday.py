"""What the console keeps for an operator's working day, beside the workflows: their
language and time zone, and which cases are assigned to whom ("my cases").

Assignment is the console's bookkeeping, not a step of a lifecycle, so it lives in
Crossdock's database (and the audit log), not in workflow history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from crossdock.console.locale import OperatorLocale
from crossdock.store import Base, Database


class PreferenceRow(Base):
    __tablename__ = "operator_preferences"

    account_id: Mapped[str] = mapped_column(ForeignKey("users.account_id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    time_zone: Mapped[str] = mapped_column(String(64))


class AssignmentRow(Base):
    __tablename__ = "case_assignments"

    workflow_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("users.account_id"), index=True)
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Workday:
    """Operators' preferences and case assignments."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def locale(self, account_id: str) -> OperatorLocale:
        """The account's language and time zone (English and UTC until it chooses)."""
        with self._db.session() as session:
            row = session.get(PreferenceRow, account_id)
            if row is None:
                return OperatorLocale()
            return OperatorLocale(row.language, row.time_zone)

    def set_locale(self, account_id: str, chosen: OperatorLocale) -> None:
        """Keep the account's language and time zone (checked: OperatorLocale.checked)."""
        with self._db.session() as session:
            session.merge(
                PreferenceRow(
                    account_id=account_id, language=chosen.language, time_zone=chosen.time_zone
                )
            )

    def assign(self, workflow_ids: Iterable[str], to: str, by: str) -> None:
        """Assign the cases to account `to` (replacing whoever had them)."""
        now = datetime.now(UTC)
        with self._db.session() as session:
            for workflow_id in workflow_ids:
                row = session.get(AssignmentRow, workflow_id)
                if row is None:
                    session.add(
                        AssignmentRow(
                            workflow_id=workflow_id, account_id=to, assigned_by=by, assigned_at=now
                        )
                    )
                else:
                    row.account_id, row.assigned_by, row.assigned_at = to, by, now

    def assignees(self, workflow_ids: Iterable[str]) -> dict[str, str]:
        """workflow id → the account it is assigned to (unassigned ones left out)."""
        ids = list(workflow_ids)
        if not ids:
            return {}
        with self._db.session() as session:
            rows = session.scalars(select(AssignmentRow).where(AssignmentRow.workflow_id.in_(ids)))
            return {row.workflow_id: row.account_id for row in rows}

    def cases_of(self, account_id: str) -> set[str]:
        """The workflow ids assigned to `account_id`."""
        with self._db.session() as session:
            query = select(AssignmentRow.workflow_id).where(AssignmentRow.account_id == account_id)
            return set(session.scalars(query))
