"""Carrier activities: verify the ship-to address, buy a label (with customs info), void
it, claim for a parcel the carrier lost or damaged."""

from __future__ import annotations

from temporalio import activity

from activities.errors import partner_errors
from crossdock.models.carrier_steps import CarrierClaim, FileClaimInput
from crossdock.models.order_steps import BuyLabelInput, ShippingLabel, VoidLabelInput, VoidResult
from crossdock.models.screening import AddressVerdict, VerifyAddressInput
from crossdock.partners.carrier import CarrierClient, LabelRequest


class CarrierActivities:
    def __init__(self, carrier: CarrierClient) -> None:
        self._carrier = carrier

    @activity.defn
    async def verify_address(self, input: VerifyAddressInput) -> AddressVerdict:
        """Ask the carrier whether it can deliver to the address (read-only, no key).

        An undeliverable address is a verdict, not a failure: the workflow's validation
        decides what it means for the order.
        """
        with partner_errors():
            found = await self._carrier.verify_address(input.address)
        return AddressVerdict(
            deliverable=found.deliverable, errors=found.errors, normalised=found.normalised
        )

    @activity.defn
    async def buy_label(self, input: BuyLabelInput) -> ShippingLabel:
        """Create the shipment with customs info, buy the cheapest rate."""
        order = input.order
        request = LabelRequest(
            reference=input.reference,
            to_address=order.ship_to,
            from_address=input.ship_from,
            items=order.items,
            weight_grams=order.weight_grams,
            currency=order.currency,
        )
        with partner_errors():
            label = await self._carrier.buy_label(request, input.idempotency_key)
        return ShippingLabel(
            shipment_id=label.shipment_id,
            tracking_code=label.tracking_code,
            tracker_id=label.tracker_id,
            carrier=label.carrier,
            service=label.service,
            cost=label.rate,
            label_url=label.label_url,
        )

    @activity.defn
    async def void_label(self, input: VoidLabelInput) -> VoidResult:
        with partner_errors():
            shipment = await self._carrier.refund_label(input.shipment_id, input.idempotency_key)
        return VoidResult(reference=input.shipment_id, status=shipment.refund_status or "")

    @activity.defn
    async def file_carrier_claim(self, input: FileClaimInput) -> CarrierClaim:
        """Claim from the carrier for a lost or damaged parcel, once per idempotency key.

        A refusal (not eligible, already claimed, invalid) is non-retryable and carries
        the carrier's code as its type, e.g. "CLAIM.NOT_ELIGIBLE".
        """
        with partner_errors():
            claim = await self._carrier.file_claim(
                input.tracking_code,
                input.amount,
                input.kind,
                input.description,
                input.idempotency_key,
            )
        return CarrierClaim(
            claim_id=claim.id,
            tracking_code=claim.tracking_code,
            shipment_id=claim.shipment_id,
            kind=claim.type,
            status=claim.status,
            requested=claim.requested,
            approved=claim.approved,
            detail=claim.status_detail or "",
        )
