"""The invariant table of a chaos run: the partners' ledgers against the workflows.

Each row counts something and lists its violations, each naming the workflow it is
about. Rows that only count (orders started, returns closed, ...) have no violations;
every other row must have none for the run to pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crossdock.chaos.cases import Case, open_cases, waiting
from crossdock.chaos.ledgers import Entry, PartnerLedger, workflow_of_key
from crossdock.models.order import Order
from crossdock.models.returns import RefundState


@dataclass
class Row:
    name: str
    count: int
    violations: list[str] = field(default_factory=list)
    # Rows that count outcomes rather than check a rule cannot be violated.
    checked: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count, "violations": self.violations}


@dataclass
class Evidence:
    """Everything the table is computed from."""

    placed: list[Order]
    cases: dict[str, Case]
    book: PartnerLedger
    unread: list[str] = field(default_factory=list)  # cases whose status query failed

    def of_kind(self, kind: str) -> list[Case]:
        return [c for c in self.cases.values() if c.kind == kind]

    def status(self, workflow_id: str) -> Any:
        case = self.cases.get(workflow_id)
        return case.status if case else None


def table(evidence: Evidence) -> list[Row]:
    """Every row, in the order they are printed."""
    return [
        *outcome_rows(evidence),
        *lifecycle_rows(evidence),
        *duplicate_rows(evidence),
        refunds_over_captured(evidence),
        captures_mismatch(evidence),
        refunds_mismatch(evidence),
        labels_mismatch(evidence),
    ]


def violations(rows: Iterable[Row]) -> int:
    return sum(len(row.violations) for row in rows)


# -- how the cases ended ---------------------------------------------------------------


def outcome_rows(evidence: Evidence) -> list[Row]:
    rows = [Row("orders placed", len(evidence.placed), checked=False)]
    for kind, plural in (("order", "orders"), ("return", "returns"), ("dispute", "disputes")):
        cases = evidence.of_kind(kind)
        rows += [
            Row(f"{plural} started", len(cases), checked=False),
            Row(f"{plural} closed", sum(c.closed for c in cases), checked=False),
            Row(f"{plural} parked for a person", sum(c.parked for c in cases), checked=False),
        ]
    healed = sum(c.reset for c in evidence.cases.values())
    rows.append(Row("cases healed past a divergence (reset)", healed, checked=False))
    return rows


def lifecycle_rows(evidence: Evidence) -> list[Row]:
    cases = sorted(evidence.cases.values(), key=lambda c: c.workflow_id)
    failed = [f"{c.workflow_id}: {c.execution} in {c.state}" for c in cases if c.failed]
    stuck = [
        f"{c.workflow_id}: running in {c.state}, {_waits_for(c, evidence.cases)}"
        for c in cases
        if c.running and not waiting(c, evidence.cases)
    ]
    lost = [
        f"{o.workflow_id}: placed on {o.channel.value}, no workflow"
        for o in evidence.placed
        if o.workflow_id not in evidence.cases
    ]
    unread = [f"{w}: status query failed" for w in evidence.unread]
    return [
        Row("workflows failed", len(failed), failed),
        Row("workflows stuck", len(stuck), stuck),
        Row("orders lost (placed, never started)", len(lost), lost),
        Row("workflows unreadable", len(unread), unread),
    ]


def _waits_for(case: Case, cases: dict[str, Case]) -> str:
    linked = open_cases(case)
    if not linked:
        silent = silent_parcels(case)
        if silent:
            return f"waiting for no one; no scan ever filed for parcel {', '.join(silent)}"
        closed = closed_by_provider(case)
        if closed:
            return f"waiting for no one; the provider already closed it ({closed})"
        return "waiting for no one"
    ended = [f"{w} ({cases[w].execution if w in cases else 'never started'})" for w in linked]
    return "waiting for " + ", ".join(ended)


def silent_parcels(case: Case) -> list[str]:
    """Tracking codes of a multi-package order's parcels still on their way that have
    not a single carrier event filed under them."""
    parcels = getattr(case.status, "parcels", []) if case.kind == "order" else []
    return [p.label.tracking_code for p in parcels if not p.outcome and not p.events_seen]


FINAL_PROVIDER_STATUSES = ("won", "lost", "warning_closed")


def closed_by_provider(case: Case) -> str:
    """For a dispute still running: the provider's closing of it that the workflow
    received and no longer acts on (its snapshot went back to an open status), or ""."""
    status = case.status if case.kind == "dispute" else None
    if status is None or status.snapshot.status in FINAL_PROVIDER_STATUSES:
        return ""
    closings = [
        entry.detail
        for entry in status.timeline
        if entry.event == "provider_status"
        and entry.detail.partition(" (")[0].endswith(FINAL_PROVIDER_STATUSES)
    ]
    return closings[-1] if closings else ""


# -- side effects performed more than once ---------------------------------------------


def _twice(name: str, units: Iterable[tuple[str, str]]) -> Row:
    """A row counting side effects, each (workflow id, unit it must happen once per);
    a unit seen more than once is a duplicate."""
    seen = Counter(units)
    found = [
        f"{workflow or '(no workflow)'}: {unit} x{n}"
        for (workflow, unit), n in sorted(seen.items())
        if n > 1
    ]
    return Row(name, sum(seen.values()), found)


def duplicate_rows(evidence: Evidence) -> list[Row]:
    book = evidence.book
    intents = book.intent_orders()
    return [
        _twice(
            "authorizations",
            ((e["details"]["order"], "authorization") for e in book.of("stripe", "authorization")),
        ),
        _twice(
            "captures",
            ((intents.get(e["reference"], ""), "capture") for e in book.of("stripe", "capture")),
        ),
        _twice("refunds", ((book.order_of(e), book.refund_key(e)) for e in book.refunds())),
        _twice(
            "labels",
            ((workflow_of_key(e["idempotency_key"]), e["idempotency_key"]) for e in book.labels()),
        ),
        _twice(
            "declarations",
            ((e["reference"], "declaration") for e in book.of("customs", "declaration")),
        ),
        _twice("confirmations", book.confirmations()),
        submissions(evidence),
        _twice(
            "messages",
            (
                (workflow_of_key(e["idempotency_key"]), e["idempotency_key"])
                for e in book.of("mail", "notification")
            ),
        ),
    ]


def dispute_workflow(entry: Entry) -> str:
    """The dispute workflow a provider's or marketplace's dispute entry belongs to."""
    provider = {"stripe": "stripe", "amazon": "amazon", "ebay": "ebay-case"}[entry["partner"]]
    return f"dispute-{provider}-{entry['reference']}"


def submissions(evidence: Evidence) -> Row:
    """Answers submitted to a dispute: once per key (provider) or per kind (marketplace
    claims take no key), and never more than the workflow says it submitted."""
    entries = evidence.book.submissions()
    row = _twice(
        "dispute submissions",
        (
            (dispute_workflow(e), e["idempotency_key"] or e["kind"])
            for e in entries
            if e["partner"] == "stripe" or e["kind"] != "case_appeal"
        ),
    )
    per_dispute = Counter(dispute_workflow(e) for e in entries if e["partner"] == "stripe")
    for workflow_id, n in sorted(per_dispute.items()):
        status = evidence.status(workflow_id)
        if status is None:
            row.violations.append(f"{workflow_id}: {n} submissions, no such workflow")
            continue
        made = sum(1 for answer in status.answers if answer.submission_count)
        if n > made:
            row.violations.append(f"{workflow_id}: provider has {n} submissions, workflow {made}")
    return row


# -- money ------------------------------------------------------------------------------


def refunds_over_captured(evidence: Evidence) -> Row:
    """Per order, the partners' refunds never exceed what the buyer paid: the capture on
    the storefront, the order total on a marketplace."""
    book = evidence.book
    refunded: Counter[str] = Counter()
    for entry in book.refunds():
        refunded[book.order_of(entry)] += entry["amount"] or 0
    intents = book.intent_orders()
    captured: Counter[str] = Counter()
    for entry in book.of("stripe", "capture"):
        captured[intents.get(entry["reference"], "")] += entry["amount"] or 0
    totals = {o.workflow_id: o.order_total.amount for o in evidence.placed}
    found = []
    for order, amount in sorted(refunded.items()):
        paid = captured[order] if order.startswith("order-storefront-") else totals.get(order)
        if paid is None:
            continue  # a replacement order: sent free, refunds none
        if amount > paid:
            found.append(f"{order}: refunded {amount} of {paid} paid (minor units)")
    return Row("refunds over captured", len(refunded), found)


# -- one side has it, the other lacks it -----------------------------------------------


def captures_mismatch(evidence: Evidence) -> Row:
    book = evidence.book
    partner = {e["reference"]: e for e in book.of("stripe", "capture")}
    found, compared = [], 0
    known: set[str] = set()
    for case in evidence.of_kind("order"):
        status = case.status
        if status is None or status.authorization is None:
            continue
        intent = status.authorization.intent_id
        known.add(intent)
        entry = partner.get(intent)
        if status.captured is None or status.captured.amount == 0:
            if entry is not None:
                found.append(f"{case.workflow_id}: provider captured {intent}, workflow did not")
            continue
        compared += 1
        if entry is None:
            found.append(f"{case.workflow_id}: workflow captured {intent}, provider did not")
        elif entry["amount"] != status.captured.amount:
            found.append(
                f"{case.workflow_id}: captured {status.captured.amount} by the workflow, "
                f"{entry['amount']} by the provider"
            )
    intents = book.intent_orders()
    for intent in sorted(partner.keys() - known):
        found.append(f"{intents.get(intent, '(no order)')}: capture {intent} for no workflow")
    return Row("ledger ≠ partner: captures", compared, found)


def _reservations(status: Any) -> set[str]:
    return {r.reservation_id for r in status.refund_reservations} if status else set()


def refunds_mismatch(evidence: Evidence) -> Row:
    """Every partner refund was reserved on its order and recorded by the workflow whose
    key it carries; every refund a return recorded as made through a partner exists."""
    book = evidence.book
    found = []
    keys = set()
    for entry in book.refunds():
        key = book.refund_key(entry)
        keys.add(key)
        order = book.order_of(entry)
        owner = workflow_of_key(key)
        if key not in _reservations(evidence.status(order)):
            found.append(f"{order}: partner refund {key or '(no key)'} not in its ledger")
        if owner.startswith("return-"):
            status = evidence.status(owner)
            steps = {f"{owner}/{r.step}" for r in status.refunds} if status else set()
            if key not in steps:
                found.append(f"{owner}: partner refund {key} not recorded by the return")
    for case in evidence.of_kind("return"):
        for record in case.status.refunds if case.status else []:
            key = f"{case.workflow_id}/{record.step}"
            made = record.state is RefundState.SUCCEEDED and record.refund_id != "by-hand"
            if made and key not in keys:
                found.append(f"{case.workflow_id}: refund {key} recorded, no partner refund")
    return Row("ledger ≠ partner: refunds", len(keys), found)


def _workflow_labels(evidence: Evidence) -> dict[str, str]:
    """Shipment id → the workflow that bought the label (current or replaced)."""
    labels: dict[str, str] = {}
    for case in evidence.cases.values():
        status = case.status
        if status is None or case.kind == "dispute":
            continue
        found = [status.label, *getattr(status, "previous_labels", [])]
        for parcel in getattr(status, "parcels", []):
            found += [parcel.label, *parcel.previous_labels]
        for label in found:
            if label is not None:
                labels[label.shipment_id] = case.workflow_id
    return labels


def labels_mismatch(evidence: Evidence) -> Row:
    book = evidence.book
    ours = _workflow_labels(evidence)
    voided = book.voided_shipments()
    partner = {e["reference"]: e for e in book.labels()}
    found = []
    for shipment, entry in sorted(partner.items()):
        if shipment not in ours and shipment not in voided:
            owner = workflow_of_key(entry["idempotency_key"])
            found.append(f"{owner or '(no key)'}: label {shipment} bought, no workflow has it")
    for shipment, workflow_id in sorted(ours.items()):
        if shipment not in partner:
            found.append(f"{workflow_id}: label {shipment} recorded, carrier has none")
    return Row("ledger ≠ partner: labels", len(partner), found)


def by_workflow(rows: Iterable[Row]) -> dict[str, list[str]]:
    """Violations grouped by the workflow they name."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        for violation in row.violations:
            workflow_id, _, detail = violation.partition(": ")
            grouped[workflow_id].append(f"{row.name}: {detail}")
    return dict(sorted(grouped.items()))
