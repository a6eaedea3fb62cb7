"""Dispute policies: evidence per reason code (data), strength, decision clocks, and the
evidence an order's record yields."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities.dispute_evidence import order_evidence
from crossdock.models.dispute import EVIDENCE_FIELDS, DisputePolicy, DisputeReason, EvidencePacket
from crossdock.models.lifecycle import TimelineEntry
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import CustomsDeclaration, ShippingLabel
from crossdock.money import Money
from crossdock.policies import disputes
from crossdock.policies.disputes import assess, decision_clocks, evidence_rule, select
from tests.factories import NOW, order

HOUR = timedelta(hours=1)
POLICY = DisputePolicy()


def test_every_field_in_the_table_is_a_stripe_evidence_field() -> None:
    for reason in disputes._TABLE["reasons"]:
        rule = evidence_rule(DisputeReason(reason))
        assert set(rule.wanted) <= EVIDENCE_FIELDS, reason


def test_reasons_without_a_row_use_the_general_rule() -> None:
    assert evidence_rule(DisputeReason.BANK_CANNOT_PROCESS).reason == "general"


def test_product_not_received_needs_delivery_proof() -> None:
    packet = EvidencePacket(
        fields={
            "shipping_carrier": "DHL",
            "shipping_tracking_number": "EZ1",
            "shipping_date": "2026-11-02",
            "customer_name": "A. Buyer",
        }
    )
    strength = assess(packet, DisputeReason.PRODUCT_NOT_RECEIVED)
    assert not strength.strong and strength.missing == ("shipping_documentation",)
    assert "customer_name" not in select(packet, DisputeReason.PRODUCT_NOT_RECEIVED).fields


def test_clocks_count_back_from_due_by() -> None:
    clocks = decision_clocks(NOW, NOW + 7 * 24 * HOUR, POLICY)
    assert clocks is not None
    assert clocks.remind_after == 4 * 24 * HOUR  # 72 h before due
    assert clocks.escalate_after == 6 * 24 * HOUR  # 24 h before due
    assert clocks.expire_after == 7 * 24 * HOUR - 6 * HOUR  # the policy acts 6 h before


def test_a_late_dispute_gets_shorter_clocks_in_the_same_order() -> None:
    clocks = decision_clocks(NOW, NOW + 40 * HOUR, POLICY)
    assert clocks is not None
    assert (clocks.remind_after, clocks.escalate_after, clocks.expire_after) == (
        8 * HOUR,
        16 * HOUR,
        34 * HOUR,
    )
    tight = decision_clocks(NOW, NOW + 12 * HOUR, POLICY)
    assert tight is not None
    assert timedelta(0) < tight.remind_after < tight.escalate_after < tight.expire_after


@pytest.mark.parametrize("left", [6 * HOUR, 2 * HOUR, -HOUR])
def test_too_late_to_ask_means_the_policy_decides_at_once(left: timedelta) -> None:
    assert decision_clocks(NOW, NOW + left, POLICY) is None


def test_an_order_record_yields_stripe_evidence() -> None:
    o = order()
    label = ShippingLabel(
        shipment_id="shp_1",
        tracking_code="EZ1000000001",
        tracker_id="trk_1",
        carrier="DHL",
        service="Express",
        cost=Money(amount=1200, currency=o.currency),
        label_url="https://labels.example/1.pdf",
    )
    status = OrderStatus(
        state="completed",
        label=label,
        declaration=CustomsDeclaration(declaration_id="dec_1", mrn="26DE000000000001"),
        ship_to=o.ship_to,
        timeline=[
            TimelineEntry(at=NOW, event="moved", state="shipment_confirmed"),
            TimelineEntry(
                at=NOW + 24 * HOUR, event="buyer_notified", state="in_transit", detail="shipped"
            ),
            TimelineEntry(at=NOW + 48 * HOUR, event="moved", state="delivered"),
        ],
    )
    packet = order_evidence("order-storefront-SF1", o, status)
    fields = packet.fields
    assert fields["shipping_tracking_number"] == "EZ1000000001"
    assert fields["shipping_date"] == NOW.date().isoformat()
    assert "delivered on" in fields["shipping_documentation"]
    assert "MRN 26DE000000000001" in fields["uncategorized_text"]
    assert "shipped" in fields["customer_communication"]
    assert o.items[0].title in fields["product_description"]
    assert assess(packet, DisputeReason.PRODUCT_NOT_RECEIVED).strong
    assert assess(packet, DisputeReason.FRAUDULENT).strong
