"""Saved views: an operator's list (orders, returns or disputes) with its filters,
columns and sort, under a name, shareable by its link (`/console/views/{id}`; whoever
opens it sees only what their own account may), with a count of the cases it holds.

A view keeps the list page's own query string, so whatever the list page filters on, a
view can keep, and opening one is just that list."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, Field
from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from crossdock.console.kinds import BY_PLURAL
from crossdock.store import Base, Database

# The list page's parameters a view keeps (anything else in a saved link is dropped).
KEPT = (
    "state",
    "marketplace",
    "destination",
    "attention",
    "stuck",
    "since",
    "until",
    "columns",
    "sort",
)
MAX_VIEWS = 50


class SavedViewRow(Base):
    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SavedView(BaseModel):
    id: int
    owner: str
    name: str = Field(min_length=1, max_length=100)
    kind: str
    # The list page's query string: filters, columns and sort.
    query: str

    @property
    def link(self) -> str:
        return f"/console/views/{self.id}"

    @property
    def target(self) -> str:
        return f"/console/{self.kind}?{self.query}" if self.query else f"/console/{self.kind}"

    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query))


def kept_query(params: dict[str, str]) -> str:
    """The list parameters a view keeps, without the empty ones."""
    return urlencode({k: v for k, v in params.items() if k in KEPT and v})


class SavedViews:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, owner: str, name: str, kind: str, params: dict[str, str]) -> SavedView:
        """Keep a view for `owner` (at most MAX_VIEWS each); ValueError naming what is wrong."""
        if kind not in BY_PLURAL:
            raise ValueError(f"kind {kind!r} is not one of {', '.join(BY_PLURAL)}")
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise ValueError("name: between 1 and 100 characters")
        with self._db.session() as session:
            owned = session.scalars(select(SavedViewRow.id).where(SavedViewRow.owner == owner))
            if len(list(owned)) >= MAX_VIEWS:
                raise ValueError(f"{owner} already keeps {MAX_VIEWS} views: delete one first")
            row = SavedViewRow(
                owner=owner,
                name=name,
                kind=kind,
                query=kept_query(params),
                created_at=datetime.now(UTC),
            )
            session.add(row)
            session.flush()
            return _view(row)

    def get(self, view_id: int) -> SavedView | None:
        with self._db.session() as session:
            row = session.get(SavedViewRow, view_id)
            return _view(row) if row else None

    def of(self, owner: str) -> list[SavedView]:
        with self._db.session() as session:
            query = select(SavedViewRow).where(SavedViewRow.owner == owner)
            return [_view(r) for r in session.scalars(query.order_by(SavedViewRow.name))]

    def delete(self, owner: str, view_id: int) -> bool:
        """Delete the owner's view; False if it is not theirs (or gone)."""
        with self._db.session() as session:
            row = session.get(SavedViewRow, view_id)
            if row is None or row.owner != owner:
                return False
            session.delete(row)
            return True


def _view(row: SavedViewRow) -> SavedView:
    return SavedView(id=row.id, owner=row.owner, name=row.name, kind=row.kind, query=row.query)
