"""Supplier activities: ask a dropship supplier for an RMA (vendor credit) for goods a
buyer returned."""

from __future__ import annotations

from temporalio import activity

from activities.errors import partner_errors
from crossdock.models.suppliers import SupplierRma, SupplierRmaInput
from crossdock.partners.suppliers import SuppliersClient


class SupplierActivities:
    def __init__(self, suppliers: SuppliersClient) -> None:
        self._suppliers = suppliers

    @activity.defn
    async def request_supplier_rma(self, input: SupplierRmaInput) -> SupplierRma:
        """File the RMA once per idempotency key; the supplier's refusal is an answer, not
        an error (status `refused`)."""
        with partner_errors():
            rma = await self._suppliers.request_rma(input)
        return rma.contract()
