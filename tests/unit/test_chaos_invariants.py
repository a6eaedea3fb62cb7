"""The chaos run's invariant table (crossdock/chaos/invariants.py) on hand-made ledgers
and workflow statuses: each rule finds its violation, names the workflow, and stays
quiet when both sides agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crossdock.chaos.cases import Case
from crossdock.chaos.invariants import Evidence, Row, by_workflow, table
from crossdock.chaos.ledgers import PartnerLedger
from crossdock.demo import DemoOrders
from crossdock.models.dispute import DisputeProvider, DisputeReason, DisputeSnapshot, ProviderStatus
from crossdock.models.dispute_states import DisputeState
from crossdock.models.dispute_status import DisputeStatus
from crossdock.models.lifecycle import TimelineEntry
from crossdock.models.order import Channel, Order
from crossdock.models.order_cases import CaseKind, CaseLink, RefundReservation
from crossdock.models.order_states import OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import PaymentAuthorization, ShippingLabel
from crossdock.models.return_states import ReturnState
from crossdock.models.return_status import ReturnStatus
from crossdock.models.returns import (
    RefundState,
    ReturnLine,
    ReturnReason,
    ReturnRefund,
    ReturnRequest,
    ReturnSource,
)
from crossdock.money import Money

ORDER: Order = DemoOrders(seed=3).next(channel=Channel.STOREFRONT)
WF = ORDER.workflow_id
RETURN = f"return-storefront-{ORDER.channel_order_id}-R1"
PAID = ORDER.order_total.amount
CUR = ORDER.currency


def entry(
    partner: str, kind: str, reference: str, key: str | None = None, **extra: Any
) -> dict[str, Any]:
    amount = extra.pop("amount", None)
    return {
        "seq": 0,
        "at": "2026-01-01T00:00:00Z",
        "partner": partner,
        "kind": kind,
        "reference": reference,
        "idempotency_key": key,
        "amount": amount,
        "currency": CUR,
        "details": extra,
    }


def label(shipment: str) -> ShippingLabel:
    return ShippingLabel(
        shipment_id=shipment,
        tracking_code=f"EZ{shipment}",
        tracker_id="trk",
        carrier="Asendia",
        service="Standard",
        cost=Money(amount=500, currency=CUR),
        label_url="",
    )


def agreeing() -> tuple[list[dict[str, Any]], dict[str, Case]]:
    """One storefront order, authorized, captured, labelled, partly refunded by a return:
    the ledger and the workflows tell the same story."""
    refund = 1000
    ledger = [
        entry("stripe", "authorization", "pi_1", f"{WF}/authorize", amount=PAID, order=WF),
        entry("stripe", "capture", "pi_1", f"{WF}/capture", amount=PAID, order=WF),
        entry("customs", "declaration", WF, f"{WF}/declare"),
        entry("easypost", "label", "shp_1", f"{WF}/label", shipment_reference=WF),
        entry("storefront", "confirmation", ORDER.channel_order_id, f"{WF}/confirm"),
        entry(
            "stripe", "refund", "pi_1", f"{RETURN}/refund", amount=refund, order=WF, refund="re_1"
        ),
        entry("mail", "notification", "msg_1", f"{WF}/notify-shipped"),
    ]
    money = Money(amount=refund, currency=CUR)
    order = OrderStatus(
        state=OrderState.COMPLETED,
        authorization=PaymentAuthorization(intent_id="pi_1", amount=ORDER.order_total),
        captured=ORDER.order_total,
        label=label("shp_1"),
        refund_reservations=[
            RefundReservation(
                reservation_id=f"{RETURN}/refund", amount=money, reason="return", state="succeeded"
            )
        ],
        cases=[CaseLink(kind=CaseKind.RETURN, workflow_id=RETURN, open=False)],
    )
    request = ReturnRequest(
        channel=Channel.STOREFRONT,
        rma=f"{ORDER.channel_order_id}-R1",
        order_id=WF,
        lines=[ReturnLine(sku=ORDER.items[0].sku, quantity=1)],
        reason=ReturnReason.CHANGED_MIND,
        source=ReturnSource.MARKETPLACE,
        requested_at=datetime.now(UTC),
    )
    returned = ReturnStatus(
        state=ReturnState.CLOSED,
        request=request,
        refunds=[
            ReturnRefund(step="refund", amount=money, state=RefundState.SUCCEEDED, refund_id="re_1")
        ],
    )
    cases = {
        WF: Case(WF, "order", "Completed", "completed", False, False, order),
        RETURN: Case(RETURN, "return", "Completed", "closed", False, False, returned),
    }
    return ledger, cases


def violations_of(ledger: list[dict[str, Any]], cases: dict[str, Case]) -> dict[str, list[str]]:
    return by_workflow(table(Evidence([ORDER], cases, PartnerLedger(ledger))))


def row(rows: list[Row], name: str) -> Row:
    return next(r for r in rows if r.name == name)


def test_a_run_where_both_sides_agree_has_no_violation() -> None:
    ledger, cases = agreeing()
    rows = table(Evidence([ORDER], cases, PartnerLedger(ledger)))
    assert by_workflow(rows) == {}
    assert row(rows, "captures").count == 1
    assert row(rows, "ledger ≠ partner: refunds").count == 1


def test_a_second_authorization_for_one_order_is_a_duplicate() -> None:
    ledger, cases = agreeing()
    ledger.append(entry("stripe", "authorization", "pi_2", f"{WF}/authorize-2", order=WF))
    assert violations_of(ledger, cases) == {WF: ["authorizations: authorization x2"]}


def test_a_refund_nobody_reserved_is_a_ledger_mismatch() -> None:
    ledger, cases = agreeing()
    ledger.append(entry("stripe", "refund", "pi_1", f"{RETURN}/refund-2", amount=10, order=WF))
    found = violations_of(ledger, cases)
    assert found[WF] == [
        f"ledger ≠ partner: refunds: partner refund {RETURN}/refund-2 not in its ledger"
    ]
    assert found[RETURN] == [
        f"ledger ≠ partner: refunds: partner refund {RETURN}/refund-2 not recorded by the return"
    ]


def test_refunds_beyond_the_capture_are_found() -> None:
    ledger, cases = agreeing()
    ledger.append(entry("stripe", "refund", "pi_1", f"{WF}/refund", amount=PAID, order=WF))
    cases[WF].status.refund_reservations.append(
        RefundReservation(reservation_id=f"{WF}/refund", amount=ORDER.order_total, reason="lost")
    )
    assert violations_of(ledger, cases) == {
        WF: [f"refunds over captured: refunded {PAID + 1000} of {PAID} paid (minor units)"]
    }


def test_a_label_no_workflow_has_counts_unless_it_was_voided() -> None:
    ledger, cases = agreeing()
    ledger.append(entry("easypost", "label", "shp_9", f"{WF}/label-2", shipment_reference=WF))
    assert violations_of(ledger, cases) == {
        WF: ["ledger ≠ partner: labels: label shp_9 bought, no workflow has it"]
    }
    ledger.append(entry("easypost", "label_refund", "shp_9", f"{WF}/void-label"))
    assert violations_of(ledger, cases) == {}


def test_a_lost_order_and_a_stuck_order_are_named() -> None:
    ledger, cases = agreeing()
    never = DemoOrders(seed=4).next(channel=Channel.AMAZON)
    cases[WF].execution = "Running"
    evidence = Evidence([ORDER, never], cases, PartnerLedger(ledger))
    found = by_workflow(table(evidence))
    assert found[never.workflow_id] == [
        "orders lost (placed, never started): placed on amazon, no workflow"
    ]
    assert found[WF] == ["workflows stuck: running in completed, waiting for no one"]


def test_an_order_waiting_for_its_running_return_is_not_stuck() -> None:
    ledger, cases = agreeing()
    cases[WF].execution = cases[RETURN].execution = "Running"
    cases[RETURN].awaiting_approval = True  # the return waits for a person
    cases[WF].status.cases = [CaseLink(kind=CaseKind.RETURN, workflow_id=RETURN)]
    assert violations_of(ledger, cases) == {}
    cases[RETURN].execution = "Completed"  # closed, but the order still waits for it
    assert violations_of(ledger, cases) == {
        WF: [f"workflows stuck: running in completed, waiting for {RETURN} (Completed)"]
    }


def test_a_dispute_waiting_after_the_provider_closed_it_is_stuck_and_says_so() -> None:
    ledger, cases = agreeing()
    snapshot = DisputeSnapshot(
        id="AZ-1",
        amount=Money(amount=500, currency=CUR),
        reason=DisputeReason.PRODUCT_NOT_RECEIVED,
        status=ProviderStatus.UNDER_REVIEW,  # the submit answer, older than the closing
    )
    at = datetime.now(UTC)
    status = DisputeStatus(
        provider=DisputeProvider.AMAZON,
        dispute_id="AZ-1",
        state=DisputeState.SUBMITTED,
        snapshot=snapshot,
        timeline=[
            TimelineEntry(
                at=at,
                event="provider_status",
                state="awaiting_decision",
                detail="needs_response → lost (claim.closed)",
            ),
            TimelineEntry(at=at, event="moved", state="submitted", detail="submission 1"),
        ],
    )
    dispute = "dispute-amazon-AZ-1"
    cases[dispute] = Case(dispute, "dispute", "Running", "submitted", False, False, status)
    assert violations_of(ledger, cases) == {
        dispute: [
            "workflows stuck: running in submitted, waiting for no one; the provider "
            "already closed it (needs_response → lost (claim.closed))"
        ]
    }
