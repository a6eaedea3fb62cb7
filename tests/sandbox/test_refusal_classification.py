"""The partners' refusals as the order's activities classify them, over real HTTP to the
sandbox: what `workflows.refusals.refusal_of` will read back in the workflow."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.errors import PartnerRefused
from activities.marketplace import MarketplaceActivities
from activities.payments import PaymentActivities
from activities.warehouse import WarehouseActivities
from crossdock.config import Settings
from crossdock.models.order import Channel
from crossdock.models.order_steps import ConfirmShipmentInput, RefundPaymentInput
from crossdock.models.refusals import RefusalKind
from crossdock.models.stock import CheckReservationInput
from crossdock.money import Money
from crossdock.partners.clients import PartnerClients
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from tests.factories import NOW, order
from tests.servers import serve


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with serve(create_app(SandboxConfig())) as url:
        yield url


@pytest.fixture
async def partners(sandbox_url: str) -> AsyncIterator[PartnerClients]:
    clients = PartnerClients.from_settings(
        Settings(
            payments_base_url=f"{sandbox_url}/stripe",
            warehouse_base_url=f"{sandbox_url}/warehouse",
            ebay_base_url=f"{sandbox_url}/ebay",
        )
    )
    yield clients
    await clients.aclose()


async def test_a_refund_of_a_payment_intent_the_provider_does_not_know_is_not_found(
    partners: PartnerClients,
) -> None:
    refund = RefundPaymentInput(
        intent_id="pi_forgotten", amount=Money(amount=39761, currency="CAD"), idempotency_key="k1"
    )
    with pytest.raises(PartnerRefused) as refused:
        await ActivityEnvironment().run(PaymentActivities(partners.payments).refund_payment, refund)
    refusal = refused.value.refusal
    assert (refusal.kind, refusal.status, refusal.partner) == (RefusalKind.NOT_FOUND, 404, "stripe")
    assert "No such payment_intent" in refusal.message


async def test_a_reservation_the_warehouse_does_not_know_is_not_found(
    partners: PartnerClients,
) -> None:
    check = CheckReservationInput(reservation_id="rsv_forgotten")
    with pytest.raises(PartnerRefused) as refused:
        await ActivityEnvironment().run(
            WarehouseActivities(partners.warehouse).check_reservation, check
        )
    assert refused.value.refusal.kind is RefusalKind.NOT_FOUND


async def test_a_second_ebay_fulfillment_of_shipped_units_is_already_done(
    sandbox_url: str, partners: PartnerClients
) -> None:
    placed = order(channel=Channel.EBAY, channel_order_id="12-17000-00002")
    async with httpx.AsyncClient() as http:
        body = (
            await http.post(
                f"{sandbox_url}/ebay/_sandbox/orders", json=placed.model_dump(mode="json")
            )
        ).json()
    line_id = body["lineItems"][0]["lineItemId"]
    placed = placed.model_copy(
        update={"items": [placed.items[0].model_copy(update={"line_id": line_id})]}
    )
    marketplace = MarketplaceActivities(partners)

    def confirmation(package: int, tracking: str) -> ConfirmShipmentInput:
        return ConfirmShipmentInput(
            order=placed,
            tracking_code=tracking,
            carrier="USPS",
            shipped_at=NOW + timedelta(hours=package),
            idempotency_key=f"order-ebay-12-17000-00002/confirm-{package}",
            package=package,
        )

    env = ActivityEnvironment()
    await env.run(marketplace.confirm_shipment, confirmation(1, "EZ1000000001"))
    with pytest.raises(PartnerRefused) as refused:
        await env.run(marketplace.confirm_shipment, confirmation(2, "EZ1000000002"))
    assert refused.value.refusal.kind is RefusalKind.ALREADY_DONE
    assert "0 unit(s) left to ship" in refused.value.refusal.message
