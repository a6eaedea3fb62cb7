"""An order's record turned into dispute evidence, in Stripe's evidence field names.

Pure translation of what the order workflow knows (its input and its `status` query):
receipt, buyer, ship-to, carrier, tracking number, ship date, delivery proof, customs
declaration, messages sent to the buyer, the refund policy and its disclosure, and the
product description. Which of these a dispute submits is the policy's business
(`crossdock.policies.disputes.select`).
"""

from __future__ import annotations

from crossdock.models.dispute import EvidencePacket
from crossdock.models.order import Address, Order
from crossdock.models.order_status import OrderStatus
from crossdock.policies.disputes import REFUND_POLICY, REFUND_POLICY_DISCLOSURE


def _address(address: Address) -> str:
    parts = [address.name, address.line1, address.line2, address.postal_code, address.city]
    return ", ".join(p for p in [*parts, address.region, address.country] if p)


def _first(status: OrderStatus, state: str, event: str = "moved") -> str:
    """When the order first reached `state` (ISO date), or ""."""
    for entry in status.timeline:
        if entry.event == event and entry.state == state:
            return entry.at.date().isoformat()
    return ""


def _receipt(workflow_id: str, order: Order, status: OrderStatus) -> str:
    paid = status.captured or status.amount_due or order.order_total
    lines = "; ".join(f"{i.quantity} x {i.sku} at {i.unit_price}" for i in order.items)
    return (
        f"Order {workflow_id} placed {order.placed_at:%Y-%m-%d} on {order.channel}: {lines}; "
        f"shipping {order.shipping}; paid {paid}"
    )


def _shipping(status: OrderStatus) -> dict[str, str]:
    label = status.label
    if label is None:
        return {}
    fields = {
        "shipping_carrier": label.carrier,
        "shipping_tracking_number": label.tracking_code,
        "shipping_date": _first(status, "shipment_confirmed"),
    }
    delivered = _first(status, "delivered")
    if delivered:
        # Delivery proof: the carrier's own scan, which the issuer can check by number.
        fields["shipping_documentation"] = (
            f"Carrier {label.carrier} tracking {label.tracking_code} shows the parcel "
            f"delivered on {delivered}"
        )
    return fields


def _messages(status: OrderStatus) -> str:
    sent = [f"{e.at:%Y-%m-%d} {e.detail}" for e in status.timeline if e.event == "buyer_notified"]
    return "Messages sent to the buyer: " + "; ".join(sent) if sent else ""


def _customs(status: OrderStatus) -> str:
    declaration = status.declaration
    if declaration is None:
        return ""
    return f"Customs declaration {declaration.declaration_id} (MRN {declaration.mrn}) filed"


def order_evidence(workflow_id: str, order: Order, status: OrderStatus) -> EvidencePacket:
    """Every piece of evidence the order's record holds, with where each came from."""
    fields = {
        "receipt": _receipt(workflow_id, order, status),
        "customer_name": order.buyer.name,
        "customer_email_address": order.buyer.email,
        "shipping_address": _address(status.ship_to or order.ship_to),
        "product_description": "; ".join(
            f"{i.title} (SKU {i.sku}, HS {i.hs_code}, made in {i.origin_country})"
            for i in order.items
        ),
        "refund_policy": REFUND_POLICY,
        "refund_policy_disclosure": REFUND_POLICY_DISCLOSURE,
        "customer_communication": _messages(status),
        "uncategorized_text": _customs(status),
        **_shipping(status),
    }
    kept = {name: value for name, value in fields.items() if value}
    sources = {name: f"order {workflow_id}" for name in kept}
    sources["refund_policy"] = sources["refund_policy_disclosure"] = "dispute_evidence.json"
    return EvidencePacket(fields=kept, sources=sources)
