"""The customs adapter against the sandbox: quotes, declarations, replays, error classes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import ActivityEnvironment

from activities.customs import CustomsActivities
from crossdock.models.order import Incoterm
from crossdock.models.order_steps import FileDeclarationInput, QuoteLandedCostInput
from crossdock.money import Money
from crossdock.partners.customs import (
    CustomsClient,
    CustomsRegime,
    DeclarationRequest,
    DeclarationStatus,
    LandedCostRequest,
)
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.customs.rules import default_rules
from crossdock.sandbox.faults import FaultProfile
from tests.factories import line_item, order


@pytest.fixture
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def customs(app: FastAPI) -> AsyncIterator[CustomsClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield CustomsClient("http://sandbox/customs", http=http)


def ledger(app: FastAPI, kind: str) -> int:
    ctx: SandboxContext = app.state.sandbox
    return len(ctx.ledger.entries(partner="customs", kind=kind))


async def test_quote_for_an_order_in_another_currency(customs: CustomsClient) -> None:
    # A US storefront order shipped to France: thresholds are checked in euros.
    dollars = Money(amount=20000, currency="USD")
    placed = order(
        currency="USD",
        items=[line_item(sku="TEE", hs_code="610910", unit_price=dollars, quantity=1)],
        shipping=Money(amount=1000, currency="USD"),
    )
    quote = await customs.landed_cost(LandedCostRequest.for_order(placed))

    assert quote.regime is CustomsRegime.STANDARD  # $200 is about €170, over €150
    assert quote.currency == "USD"
    # Duty 12% of CIF 21000 = 2520; VAT (FR 20%) of 21000 + 2520 = 4704.
    assert (quote.duties, quote.taxes) == (
        Money(amount=2520, currency="USD"),
        Money(amount=4704, currency="USD"),
    )
    assert quote.fx is not None
    assert (quote.fx.source, quote.fx.target, quote.fx.rate) == ("USD", "EUR", Decimal("0.851716"))
    assert quote.intrinsic_value == Money(amount=17034, currency="EUR")
    assert (quote.payer, quote.due_at_checkout) == ("seller", quote.total)  # factory: DDP


async def test_ioss_quote_is_collected_at_sale(customs: CustomsClient) -> None:
    quote = await customs.landed_cost(LandedCostRequest.for_order(order(incoterm=Incoterm.DAP)))
    # The factory's order (2026-11-02, one tariff line) pays the EUR 3 flat duty at sale
    # with the VAT (FR 20% of 3600 + 990 = 918), even under DAP.
    assert (quote.regime, quote.collected_at_sale, quote.duties.amount) == (
        CustomsRegime.IOSS,
        True,
        300,
    )
    assert quote.due_at_checkout == Money(amount=1218, currency="EUR")


async def test_the_order_date_picks_the_rules_and_the_version_is_recorded(
    customs: CustomsClient, app: FastAPI
) -> None:
    june = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    july = datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
    before = order(placed_at=june, ship_by=june, deliver_by=june)
    after = order(placed_at=july, ship_by=july, deliver_by=july, channel_order_id="SF10000002")
    old = await customs.landed_cost(LandedCostRequest.for_order(before))
    new = await customs.landed_cost(LandedCostRequest.for_order(after))
    assert (old.duties.amount, new.duties.amount) == (0, 300)
    assert (old.rules_date, new.rules_date) == (date(2026, 6, 30), date(2026, 7, 1))
    assert new.rules_label() == f"{default_rules().version} (FR rules in force from 2026-07-01)"

    filed = await customs.file_declaration(
        DeclarationRequest.for_order(after.workflow_id, after, new.quote_id), "k-dated"
    )
    assert (filed.duties.amount, filed.rules_label()) == (300, new.rules_label())
    assert ledger(app, "declaration") == 1


async def test_ship_from_country_is_sent_for_canada(customs: CustomsClient) -> None:
    cad = Money(amount=10000, currency="CAD")
    placed = order(
        currency="CAD",
        items=[line_item(unit_price=cad, quantity=1, origin_country="CN")],
        shipping=Money(amount=0, currency="CAD"),
        ship_to=order().ship_to.model_copy(update={"country": "CA"}),
    )
    from_us = await customs.landed_cost(LandedCostRequest.for_order(placed, "US"))
    from_de = await customs.landed_cost(LandedCostRequest.for_order(placed, "DE"))
    assert (from_us.regime, from_de.regime) == (CustomsRegime.DE_MINIMIS, CustomsRegime.STANDARD)


async def test_declaration_file_replay_cancel(customs: CustomsClient, app: FastAPI) -> None:
    placed = order()
    quote = await customs.landed_cost(LandedCostRequest.for_order(placed))
    request = DeclarationRequest.for_order(placed.workflow_id, placed, quote.quote_id)

    filed = await customs.file_declaration(request, "order-storefront-SF10000001:declare")
    replayed = await customs.file_declaration(request, "order-storefront-SF10000001:declare")

    assert filed == replayed
    assert (filed.status, filed.reference, filed.quote_id) == (
        DeclarationStatus.FILED,
        "order-storefront-SF10000001",
        quote.quote_id,
    )
    assert len(filed.mrn) == 18
    assert ledger(app, "declaration") == 1

    cancelled = await customs.cancel_declaration(filed.id, "order-storefront-SF10000001:undo")
    assert cancelled.status is DeclarationStatus.CANCELLED
    assert (await customs.get_declaration(filed.id)).status is DeclarationStatus.CANCELLED
    assert ledger(app, "declaration_cancel") == 1


async def test_unsupported_destination_is_a_rejection_naming_the_field(
    customs: CustomsClient,
) -> None:
    placed = order()
    request = LandedCostRequest.for_order(placed).model_copy(update={"destination_country": "BR"})
    with pytest.raises(PartnerRejected) as refused:
        await customs.landed_cost(request)
    assert (refused.value.status, refused.value.code) == (422, "invalid_request")
    assert refused.value.message.startswith("destination_country:")


async def test_cancelling_twice_with_new_keys_is_rejected(customs: CustomsClient) -> None:
    placed = order()
    filed = await customs.file_declaration(
        DeclarationRequest.for_order(placed.workflow_id, placed), "k-file"
    )
    await customs.cancel_declaration(filed.id, "k-cancel-1")
    with pytest.raises(PartnerRejected) as refused:
        await customs.cancel_declaration(filed.id, "k-cancel-2")
    assert refused.value.code == "invalid_state"


async def test_outage_is_retryable() -> None:
    app = create_app(SandboxConfig(faults=FaultProfile.everywhere(error_rate=1.0)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = CustomsClient("http://sandbox/customs", http=http, api_key="ck_test")
        with pytest.raises(PartnerUnavailable):
            await client.landed_cost(LandedCostRequest.for_order(order()))


async def test_the_activity_quotes_and_declares_from_the_warehouse_country(
    customs: CustomsClient,
) -> None:
    cad = Money(amount=10000, currency="CAD")
    placed = order(
        currency="CAD",
        items=[line_item(unit_price=cad, quantity=1, origin_country="CN")],
        shipping=Money(amount=0, currency="CAD"),
        ship_to=order().ship_to.model_copy(update={"country": "CA"}),
    )
    env = ActivityEnvironment()
    from_us = CustomsActivities(customs, ship_from_country="US")
    quote = await env.run(from_us.quote_landed_cost, QuoteLandedCostInput(order=placed))
    assert quote.regime == CustomsRegime.DE_MINIMIS  # CUSMA: shipped from the US
    filed = FileDeclarationInput(
        reference="order-1", order=placed, quote_id=quote.quote_id, idempotency_key="k-1"
    )
    declaration = await env.run(from_us.file_declaration, filed)
    assert declaration.rules_version == quote.rules_version
    from_de = CustomsActivities(customs, ship_from_country="DE")
    elsewhere = await env.run(from_de.quote_landed_cost, QuoteLandedCostInput(order=placed))
    assert elsewhere.regime == CustomsRegime.STANDARD
