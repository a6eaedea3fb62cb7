"""Health alerts: what the hourly check found past a pre-breach level, kept until a later
check finds the figure back under it (docs/readmodel.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crossdock.readmodel.health import Figure, HealthReader, Level
from crossdock.readmodel.rows import utc
from crossdock.readmodel.tables import HealthAlert
from crossdock.store import Database

RAISING = frozenset({Level.WARNING, Level.BREACH})


class HealthAlerts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def check(self, now: datetime) -> list[HealthAlert]:
        """Compute every figure (overall and per destination) and raise, update or clear
        the alerts; the alerts open afterwards."""
        at = utc(now)
        reader = HealthReader(self.db)
        figures = reader.figures(at) + reader.figures(at, by_destination=True)
        with self.db.session() as session:
            known = {(a.metric, a.destination): a for a in session.scalars(select(HealthAlert))}
            for figure in figures:
                _apply(session, known.get((figure.metric.key, figure.destination)), figure, at)
        return self.open()

    def open(self) -> list[HealthAlert]:
        """The alerts not cleared, breaches first."""
        with self.db.session() as session:
            found = list(
                session.scalars(select(HealthAlert).where(HealthAlert.cleared_at.is_(None)))
            )
        return sorted(found, key=lambda a: (a.level != Level.BREACH, a.metric, a.destination))


def _apply(session: Session, alert: HealthAlert | None, figure: Figure, at: datetime) -> None:
    raising = figure.level in RAISING
    if alert is None:
        if raising:
            session.add(
                HealthAlert(
                    metric=figure.metric.key,
                    destination=figure.destination,
                    level=figure.level.value,
                    rate=figure.rate or 0.0,
                    numerator=figure.numerator,
                    denominator=figure.denominator,
                    raised_at=at,
                    checked_at=at,
                )
            )
        return
    alert.checked_at = at
    if not raising:
        if alert.cleared_at is None:
            alert.cleared_at = at
        return
    if alert.cleared_at is not None:  # raised again after it cleared: a new alert
        alert.raised_at, alert.cleared_at = at, None
    alert.level = figure.level.value
    alert.rate = figure.rate or 0.0
    alert.numerator, alert.denominator = figure.numerator, figure.denominator
