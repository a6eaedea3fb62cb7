"""What the console and the CLI read from the read model, built once per process."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from crossdock.readmodel.health import HealthReader
from crossdock.readmodel.kpis import KpiReader, Period
from crossdock.readmodel.search import BadFilter, OrderSearch
from crossdock.store import Database

PERIOD = re.compile(r"^([1-9][0-9]{0,2})d$")
MAX_PERIOD_DAYS = 400


@dataclass(frozen=True)
class ReadModel:
    search: OrderSearch
    kpis: KpiReader
    health: HealthReader

    @classmethod
    def over(cls, db: Database, secret: bytes) -> ReadModel:
        return cls(OrderSearch(db, secret), KpiReader(db), HealthReader(db))


def period_ending(text: str, now: datetime) -> Period:
    """The trailing period `text` names ("30d"), ending at `now`.

    Raises:
        BadFilter: not N days with N from 1 to 400.
    """
    found = PERIOD.match(text)
    if not found or int(found.group(1)) > MAX_PERIOD_DAYS:
        raise BadFilter(f"period {text!r}: days, e.g. 30d (1d to {MAX_PERIOD_DAYS}d)", ["period"])
    return Period(now - timedelta(days=int(found.group(1))), now)
