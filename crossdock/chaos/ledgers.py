"""The partners' side of a run: the sandbox ledger, read over HTTP, grouped by what
each side effect applies to.

Every side effect Crossdock asks for carries an idempotency key `{workflow id}/{step}`
(workflows/*_context.py), so a ledger entry names the workflow and step that caused it.
Marketplaces that take no key are matched by what they do keep: eBay refunds carry our
key in their `comment`, shipment confirmations their tracking number.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

Entry = dict[str, Any]

MARKETPLACES = ("amazon", "ebay")
CONFIRMING = ("amazon", "ebay", "storefront")
# Answers to a dispute that the provider or marketplace records, per partner.
SUBMISSION_KINDS = {
    "stripe": ("dispute_submission",),
    "ebay": ("case_shipment_info", "case_appeal"),
    "amazon": ("atoz_representation",),
}


async def ledger(
    http: httpx.AsyncClient, partner: str | None = None, kind: str | None = None
) -> list[Entry]:
    """The sandbox ledger's entries (of one partner and kind, if given), oldest first."""
    params = {k: v for k, v in (("partner", partner), ("kind", kind)) if v is not None}
    response = await http.get("/_sandbox/ledger", params=params)
    response.raise_for_status()
    entries: list[Entry] = response.json()
    return entries


def workflow_of_key(key: str | None) -> str:
    """The workflow an idempotency key `{workflow id}/{step}` belongs to ("" if none)."""
    return key.partition("/")[0] if key else ""


@dataclass
class PartnerLedger:
    """Every ledger entry of a run, with the lookups the invariants need."""

    entries: list[Entry]

    @classmethod
    async def read(cls, http: httpx.AsyncClient) -> PartnerLedger:
        return cls(await ledger(http))

    def of(self, partner: str, kind: str) -> list[Entry]:
        return [e for e in self.entries if e["partner"] == partner and e["kind"] == kind]

    def intent_orders(self) -> dict[str, str]:
        """Payment intent id → the order workflow it was authorized for."""
        return {e["reference"]: e["details"]["order"] for e in self.of("stripe", "authorization")}

    def order_of(self, entry: Entry) -> str:
        """The order workflow a payment, refund or confirmation entry applies to."""
        if entry["partner"] == "stripe":
            order = entry["details"].get("order")
            return str(order) if order else self.intent_orders().get(entry["reference"], "")
        if entry["partner"] in CONFIRMING:
            return f"order-{entry['partner']}-{entry['reference']}"
        return ""

    def refunds(self) -> list[Entry]:
        """Money given back to buyers: provider refunds and marketplace refunds."""
        return [e for p in ("stripe", *MARKETPLACES) for e in self.of(p, "refund")]

    def refund_key(self, entry: Entry) -> str:
        return str(entry["idempotency_key"] or entry["details"].get("comment") or "")

    def refund_id(self, entry: Entry) -> str:
        """The id the partner gave the refund (what the workflow records)."""
        details = entry["details"]
        return str(
            details.get("refund") or details.get("refund_id") or details.get("feed_id") or ""
        )

    def labels(self) -> list[Entry]:
        return self.of("easypost", "label")

    def voided_shipments(self) -> set[str]:
        return {e["reference"] for e in self.of("easypost", "label_refund")}

    def confirmations(self) -> list[tuple[str, str]]:
        """(order workflow, package key) per shipment confirmation: our key, or the
        tracking number where the marketplace keeps no key."""
        found = []
        for partner in CONFIRMING:
            for entry in self.of(partner, "confirmation"):
                order = self.order_of(entry)
                key = entry["idempotency_key"] or f"{order}/{entry['details']['tracking_number']}"
                found.append((order, key))
        return found

    def submissions(self) -> list[Entry]:
        return [e for p, kinds in SUBMISSION_KINDS.items() for k in kinds for e in self.of(p, k)]


def side_effects(book: PartnerLedger) -> dict[str, Counter[str]]:
    """Per kind of side effect, how many times the partners performed it per order, and
    (`...-keys`) per idempotency key: a partial shipment labels and confirms several
    packages, each under a key of its own, each exactly once."""
    intent_order = book.intent_orders()
    labels = book.labels()
    confirmations = book.confirmations()
    return {
        "authorization": Counter(e["details"]["order"] for e in book.of("stripe", "authorization")),
        "capture": Counter(
            intent_order.get(e["reference"], f"unknown intent {e['reference']}")
            for e in book.of("stripe", "capture")
        ),
        "declaration": Counter(e["reference"] for e in book.of("customs", "declaration")),
        "reservation": Counter(e["reference"] for e in book.of("warehouse", "reservation")),
        "label": Counter(e["details"]["shipment_reference"] for e in labels),
        "label-keys": Counter(e["idempotency_key"] for e in labels),
        "confirmation": Counter(order for order, _ in confirmations),
        "confirmation-keys": Counter(key for _, key in confirmations),
    }
