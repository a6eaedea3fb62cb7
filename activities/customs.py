"""Customs activities: landed-cost quote, declaration filing and cancellation."""

from __future__ import annotations

from temporalio import activity

from activities.errors import partner_errors
from crossdock.models.order_steps import (
    CancelDeclarationInput,
    CheckDeclarationInput,
    CustomsDeclaration,
    FileDeclarationInput,
    LandedCost,
    QuoteLandedCostInput,
    VoidResult,
)
from crossdock.partners.customs import CustomsClient, DeclarationRequest, LandedCostRequest


class CustomsActivities:
    """Quotes and declarations for the orders' consignments.

    Args:
        customs: The customs authority's client.
        ship_from_country: Where parcels leave from (`Settings.ship_from`): some rules key
            on the place of direct shipment, not the goods' origin (Canada's CUSMA).
    """

    def __init__(self, customs: CustomsClient, ship_from_country: str | None = None) -> None:
        self._customs = customs
        self._ship_from = ship_from_country

    @activity.defn
    async def quote_landed_cost(self, input: QuoteLandedCostInput) -> LandedCost:
        """Duties and taxes for the order's destination and incoterm (no side effect)."""
        with partner_errors():
            consignment = LandedCostRequest.for_order(input.order, self._ship_from)
            quote = await self._customs.landed_cost(consignment)
        return LandedCost(
            quote_id=quote.quote_id,
            regime=quote.regime,
            duties=quote.duties,
            taxes=quote.taxes,
            collected_at_sale=quote.collected_at_sale,
            due_at_checkout=quote.due_at_checkout,
            rules_version=quote.rules_label(),
        )

    @activity.defn
    async def file_declaration(self, input: FileDeclarationInput) -> CustomsDeclaration:
        with partner_errors():
            request = DeclarationRequest.for_order(
                input.reference, input.order, input.quote_id, self._ship_from
            )
            declaration = await self._customs.file_declaration(request, input.idempotency_key)
        return CustomsDeclaration(
            declaration_id=declaration.id,
            mrn=declaration.mrn,
            status=declaration.status,
            rules_version=declaration.rules_label(),
        )

    @activity.defn
    async def check_declaration(self, input: CheckDeclarationInput) -> CustomsDeclaration:
        """The declaration's current status (a held one may have been released)."""
        with partner_errors():
            declaration = await self._customs.get_declaration(input.declaration_id)
        return CustomsDeclaration(
            declaration_id=declaration.id,
            mrn=declaration.mrn,
            status=declaration.status,
            rules_version=declaration.rules_label(),
        )

    @activity.defn
    async def cancel_declaration(self, input: CancelDeclarationInput) -> VoidResult:
        with partner_errors():
            declaration = await self._customs.cancel_declaration(
                input.declaration_id, input.idempotency_key
            )
        return VoidResult(reference=declaration.id, status=declaration.status)
