"""`request_supplier_rma` over real HTTP against the sandbox (uvicorn on a real port):
the supplier's answer as our contract (Money in the supplier's currency), a retried
activity files one RMA (the ledger), a rejected request is non-retryable and names the
field."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.suppliers import SupplierActivities
from crossdock.models.returns import InspectionVerdict, ReturnReason
from crossdock.models.suppliers import SupplierRmaInput, SupplierRmaLine, SupplierRmaStatus
from crossdock.money import Money
from crossdock.partners.suppliers import SuppliersClient

_returns = itertools.count(1)


@pytest.fixture
async def suppliers(live_sandbox: str) -> AsyncIterator[SuppliersClient]:
    client = SuppliersClient(f"{live_sandbox}/suppliers")
    yield client
    await client.aclose()


def rma_input(
    supplier: str, sku: str, condition: InspectionVerdict, **fields: object
) -> SupplierRmaInput:
    reference = f"return-storefront-SUP{next(_returns):05d}"
    values: dict[str, object] = {
        "supplier_id": supplier,
        "order_reference": reference,
        "reason": ReturnReason.DAMAGED,
        "lines": [SupplierRmaLine(sku=sku, quantity=2, condition=condition)],
        "delivered_at": datetime.now(UTC) - timedelta(days=2),
        "idempotency_key": f"{reference}/supplier-rma-{supplier}",
    }
    return SupplierRmaInput.model_validate(values | fields)


async def test_a_retried_activity_files_one_rma_and_returns_the_same_answer(
    suppliers: SuppliersClient, live_sandbox: str
) -> None:
    activity = SupplierActivities(suppliers).request_supplier_rma
    request = rma_input("sup-uji-tea", "TEA-MATCHA-50", InspectionVerdict.ACCEPTED)
    env = ActivityEnvironment()
    first = await env.run(activity, request)
    again = await env.run(activity, request)
    assert again == first
    assert first.status is SupplierRmaStatus.AUTHORIZED
    assert first.credit == Money(amount=2200, currency="JPY")
    [line] = first.lines
    assert (line.sku, line.credit) == ("TEA-MATCHA-50", Money(amount=2200, currency="JPY"))
    fetched = await suppliers.get_rma("sup-uji-tea", first.rma_id)
    assert fetched.contract() == first
    async with httpx.AsyncClient() as http:
        ledger = await http.get(
            f"{live_sandbox}/_sandbox/ledger",
            params={"partner": "suppliers", "reference": request.order_reference},
        )
    assert [entry["details"]["rma_id"] for entry in ledger.json()] == [first.rma_id]


async def test_the_suppliers_refusal_is_an_answer(suppliers: SuppliersClient) -> None:
    activity = SupplierActivities(suppliers).request_supplier_rma
    request = rma_input("sup-uji-tea", "TEA-MATCHA-50", InspectionVerdict.DAMAGED)
    rma = await ActivityEnvironment().run(activity, request)
    assert rma.status is SupplierRmaStatus.REFUSED
    assert rma.credit == Money.zero("JPY")
    assert "does not credit damaged goods" in rma.refusal_reason


async def test_a_sku_the_supplier_does_not_ship_is_refused_naming_the_field(
    suppliers: SuppliersClient,
) -> None:
    activity = SupplierActivities(suppliers).request_supplier_rma
    request = rma_input("sup-uji-tea", "SCARF-WOOL", InspectionVerdict.ACCEPTED)
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(activity, request)
    assert refused.value.non_retryable
    assert "lines[0].sku" in refused.value.message
    assert "does not supply 'SCARF-WOOL'" in refused.value.message
