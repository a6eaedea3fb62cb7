"""What the simulated partners did, as tests and operators would audit it.

Every side effect a partner performs (authorization, capture, refund, label, declaration,
shipment confirmation, ...) is one entry, carrying the idempotency key that caused it.
Replayed requests do not add entries: that is the point of asserting on the ledger.
Entries are records in the store, so the ledger spans restarts of the sandbox.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from crossdock.money import Money
from crossdock.sandbox.core.store import RecordStore, Table


class LedgerEntry(BaseModel):
    seq: int
    at: datetime
    partner: str  # stripe, easypost, amazon, ebay, customs, storefront
    kind: str  # authorization, capture, cancellation, refund, label, declaration, ...
    reference: str  # the partner object or order the effect applies to
    idempotency_key: str | None = None
    amount: int | None = None  # minor units
    currency: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Ledger:
    def __init__(self, store: RecordStore | None = None) -> None:
        records = store or RecordStore()
        self._table: Table[LedgerEntry] = records.table("sandbox", "ledger", LedgerEntry)
        # Entries never change once written: kept in order here, each touched only once.
        self._entries = sorted(self._table.peek(), key=lambda e: e.seq)
        self._seq = records.counter("sandbox", "ledger", len(self._entries) + 1)

    def record(
        self,
        partner: str,
        kind: str,
        reference: str,
        *,
        idempotency_key: str | None = None,
        amount: int | None = None,
        currency: str | None = None,
        money: Money | None = None,
        **details: Any,
    ) -> LedgerEntry:
        """Write one entry; `money` stands for `amount` and `currency` together."""
        if money is not None:
            amount, currency = money.amount, money.currency
        entry = LedgerEntry(
            seq=next(self._seq),
            at=datetime.now(UTC),
            partner=partner,
            kind=kind,
            reference=reference,
            idempotency_key=idempotency_key,
            amount=amount,
            currency=currency,
            details=details,
        )
        self._table[f"{entry.seq:012d}"] = entry
        self._entries.append(entry)
        return entry

    def entries(
        self, partner: str | None = None, kind: str | None = None, reference: str | None = None
    ) -> list[LedgerEntry]:
        return [
            e
            for e in self._entries
            if (partner is None or e.partner == partner)
            and (kind is None or e.kind == kind)
            and (reference is None or e.reference == reference)
        ]
