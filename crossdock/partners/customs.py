"""Customs service adapter: landed-cost quotes and import declarations.

Requests and responses use Crossdock's `Money` (integer minor units). Filing and
cancelling carry the caller's idempotency key, so a retried activity replays the stored
answer instead of declaring twice. Failures arrive as `crossdock.partners.errors`
types: 422 (unsupported destination, bad HS code; the code is "invalid_request" and the
message names the field) and 400 (invalid state, reused key) are `PartnerRejected`,
429 `RateLimited`, 5xx and timeouts `PartnerUnavailable`.

The service applies the customs rules in force on the order's sale date (`placed_at`), and
each quote and declaration says which: `rules_version` (the rule table's version) and
`rule_in_force_from` (the start of the destination's period applied). Both default to
None so answers recorded before they existed still decode.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import Incoterm, LineItem, Order
from crossdock.money import Money
from crossdock.partners.http import ServiceApi

PARTNER = "customs"


Transport = Literal["courier", "postal"]


class CustomsRegime(StrEnum):
    IOSS = "IOSS"  # EU, <= EUR 150: VAT collected at sale, no duty
    UK_VAT_AT_SALE = "UK_VAT_AT_SALE"  # UK, <= GBP 135
    AU_GST_AT_SALE = "AU_GST_AT_SALE"  # AU, <= AUD 1,000
    DE_MINIMIS = "DE_MINIMIS"  # duty and/or tax relieved below a threshold
    STANDARD = "STANDARD"  # duty and import tax at the border


class DeclarationStatus(StrEnum):
    FILED = "filed"
    HELD = "held"  # customs hold: wait for release
    RELEASED = "released"
    CANCELLED = "cancelled"


class CustomsLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    hs_code: str
    origin_country: str
    quantity: int = Field(gt=0)
    unit_price: Money

    @classmethod
    def from_line_item(cls, item: LineItem) -> CustomsLine:
        return cls(
            sku=item.sku,
            hs_code=item.hs_code,
            origin_country=item.origin_country,
            quantity=item.quantity,
            unit_price=item.unit_price,
        )


class LandedCostRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    destination_country: str
    currency: str
    incoterm: Incoterm
    shipping: Money
    items: list[CustomsLine] = Field(min_length=1)
    sale_date: date | None = None  # the rules in force on this date apply
    # Where the parcel is shipped from directly (Canada's CUSMA courier thresholds key on
    # it); None: not a direct shipment from a country with particular thresholds.
    ship_from_country: str | None = None
    transport: Transport = "courier"

    @classmethod
    def for_order(cls, order: Order, ship_from_country: str | None = None) -> LandedCostRequest:
        """The consignment of `order`: its destination, incoterm, shipping, items and
        sale date."""
        return cls(
            destination_country=order.ship_to.country,
            currency=order.currency,
            incoterm=order.incoterm,
            shipping=order.shipping,
            items=[CustomsLine.from_line_item(item) for item in order.items],
            sale_date=order.placed_at.astimezone(UTC).date(),
            ship_from_country=ship_from_country,
        )


class QuoteLine(BaseModel):
    sku: str
    hs_code: str
    duty_rate: Decimal
    duty: Money
    tax: Money


class FxQuote(BaseModel):
    """The FX rate a quote used: amount_in_target = amount_in_source * rate."""

    model_config = ConfigDict(populate_by_name=True)

    rate: Decimal
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    as_of: date


class LandedCostQuote(BaseModel):
    model_config = ConfigDict(extra="ignore")

    quote_id: str
    destination_country: str
    currency: str
    incoterm: Incoterm
    regime: CustomsRegime
    duties: Money
    taxes: Money
    total: Money  # duties + taxes
    collected_at_sale: bool
    payer: Literal["seller", "buyer"]
    due_at_checkout: Money
    intrinsic_value: Money  # goods value in the destination currency
    fx: FxQuote | None = None
    lines: list[QuoteLine] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    rules_version: str | None = None
    rule_in_force_from: date | None = None
    rules_date: date | None = None
    entry_type: str | None = None  # US: de_minimis | informal | formal | postal

    def rules_label(self) -> str | None:
        """The rules the quote used, for operators: version, destination, period start."""
        return rules_label(self.rules_version, self.destination_country, self.rule_in_force_from)


def rules_label(version: str | None, country: str, in_force_from: date | None) -> str | None:
    """E.g. "2026.4 (FR rules in force from 2026-07-01)"; None when not recorded."""
    if not version:
        return None
    period = f" ({country} rules in force from {in_force_from})" if in_force_from else ""
    return version + period


class DeclarationRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    reference: str  # the order workflow id
    destination_country: str
    incoterm: Incoterm
    currency: str
    shipping: Money | None = None
    items: list[CustomsLine] = Field(min_length=1)
    quote_id: str | None = None
    sale_date: date | None = None
    ship_from_country: str | None = None
    transport: Transport = "courier"

    @classmethod
    def for_order(
        cls,
        reference: str,
        order: Order,
        quote_id: str | None = None,
        ship_from_country: str | None = None,
    ) -> DeclarationRequest:
        """The declaration of `order`'s consignment under `reference`, under the rules in
        force on its sale date (so it matches the quote)."""
        consignment = LandedCostRequest.for_order(order, ship_from_country)
        return cls(reference=reference, quote_id=quote_id, **consignment.model_dump())


class Declaration(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    status: DeclarationStatus
    reference: str
    mrn: str
    destination_country: str
    incoterm: Incoterm
    currency: str
    quote_id: str | None = None
    regime: CustomsRegime
    duties: Money
    taxes: Money
    hold_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    entry_type: str | None = None
    rules_version: str | None = None
    rule_in_force_from: date | None = None
    rules_date: date | None = None

    def rules_label(self) -> str | None:
        """The rules the declaration was filed under, for operators."""
        return rules_label(self.rules_version, self.destination_country, self.rule_in_force_from)


class CustomsClient(ServiceApi):
    """Async client for the customs service.

    Args:
        api_key: Sent as a Bearer token when given (the sandbox does not require one).
    """

    service = PARTNER

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        *,
        api_key: str | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        super().__init__(base_url, http, timeout, headers=headers)

    async def landed_cost(self, request: LandedCostRequest) -> LandedCostQuote:
        """Duties and taxes for a consignment (no side effect)."""
        body = await self._json("POST", "/v1/landed-cost", json=request.model_dump(mode="json"))
        return LandedCostQuote.model_validate(body)

    async def file_declaration(
        self, request: DeclarationRequest, idempotency_key: str
    ) -> Declaration:
        """File the import declaration; the same key replays the first answer."""
        body = await self._json(
            "POST", "/v1/declarations", idempotency_key, json=request.model_dump(mode="json")
        )
        return Declaration.model_validate(body)

    async def cancel_declaration(self, declaration_id: str, idempotency_key: str) -> Declaration:
        """Withdraw a filed declaration; the same key replays the first answer."""
        body = await self._json(
            "POST", f"/v1/declarations/{declaration_id}/cancel", idempotency_key
        )
        return Declaration.model_validate(body)

    async def get_declaration(self, declaration_id: str) -> Declaration:
        """The declaration's current state (held declarations wait for release)."""
        return Declaration.model_validate(
            await self._json("GET", f"/v1/declarations/{declaration_id}")
        )
