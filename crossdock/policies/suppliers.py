"""Dropship suppliers (`suppliers.json`): which SKUs a supplier ships for us, on what
RMA terms, and which returned lines go back to which supplier.

Pure and fast, so the return workflow calls it in workflow code after inspection. The
table is checked when loaded: an unknown supplier, a SKU the catalog lacks or a cost
with too many decimals fails at import, not mid-return.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crossdock.catalog import Catalog, default_catalog
from crossdock.models.returns import InspectedLine, InspectionVerdict, ReturnLine
from crossdock.models.suppliers import SupplierRmaLine
from crossdock.money import CurrencyCode, Money
from crossdock.policies._data import load_table

__all__ = [
    "SUPPLIERS",
    "DropshipSku",
    "Supplier",
    "SupplierBatch",
    "SupplierTable",
    "load_suppliers",
    "supplier_batches",
]


class Supplier(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str = Field(min_length=1)
    currency: CurrencyCode
    rma_window_days: int = Field(gt=0)
    # Whether the supplier credits goods the warehouse found damaged.
    credits_damaged: bool


class DropshipSku(BaseModel):
    model_config = ConfigDict(frozen=True)

    supplier: str
    unit_cost: Money


class SupplierTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    suppliers: dict[str, Supplier]
    skus: dict[str, DropshipSku]

    @model_validator(mode="after")
    def _known_suppliers(self) -> SupplierTable:
        for sku, entry in self.skus.items():
            supplier = self.suppliers.get(entry.supplier)
            if supplier is None:
                raise ValueError(
                    f"skus.{sku}.supplier {entry.supplier!r} is not a supplier "
                    f"(known: {', '.join(sorted(self.suppliers))})"
                )
            if entry.unit_cost.currency != supplier.currency:
                raise ValueError(
                    f"skus.{sku}.unit_cost is in {entry.unit_cost.currency}, but "
                    f"{entry.supplier} invoices in {supplier.currency}"
                )
        return self

    def supplier_of(self, sku: str) -> Supplier | None:
        """The supplier that ships `sku`, or None for our own stock."""
        entry = self.skus.get(sku)
        return self.suppliers[entry.supplier] if entry else None


def load_suppliers(table: Mapping[str, Any], catalog: Catalog | None = None) -> SupplierTable:
    """The table from its JSON form; a SKU the catalog lacks is a data bug."""
    suppliers = {
        supplier_id: Supplier.model_validate({"id": supplier_id, **terms})
        for supplier_id, terms in table["suppliers"].items()
    }
    skus: dict[str, DropshipSku] = {}
    for sku, entry in table["skus"].items():
        supplier = suppliers.get(entry["supplier"])
        if supplier is None:
            raise ValueError(
                f"skus.{sku}.supplier {entry['supplier']!r} is not a supplier "
                f"(known: {', '.join(sorted(suppliers))})"
            )
        cost = Money.parse(entry["unit_cost"], supplier.currency)
        skus[sku] = DropshipSku(supplier=entry["supplier"], unit_cost=cost)
    known = {product.sku for product in (catalog or default_catalog()).products()}
    unknown = sorted(set(skus) - known)
    if unknown:
        raise ValueError(f"suppliers.json skus: {unknown} are not in the catalog")
    return SupplierTable(suppliers=suppliers, skus=skus)


SUPPLIERS = load_suppliers(load_table("suppliers.json"))


class SupplierBatch(BaseModel):
    """The returned lines that go back to one supplier, with their inspected condition."""

    supplier_id: str
    lines: list[SupplierRmaLine]


def supplier_batches(
    returned: list[ReturnLine],
    inspected: list[InspectedLine],
    table: SupplierTable = SUPPLIERS,
) -> list[SupplierBatch]:
    """One batch per supplier, suppliers in the order their lines were returned.

    Own-stock lines are not in any batch, nor wrong items: what came back is not the
    supplier's goods.
    """
    verdicts = {line.sku: line.verdict for line in inspected}
    batches: dict[str, list[SupplierRmaLine]] = {}
    for line in returned:
        supplier = table.supplier_of(line.sku)
        verdict = verdicts.get(line.sku)
        if supplier is None or verdict is None or verdict is InspectionVerdict.WRONG_ITEM:
            continue
        batches.setdefault(supplier.id, []).append(
            SupplierRmaLine(sku=line.sku, quantity=line.quantity, condition=verdict)
        )
    return [SupplierBatch(supplier_id=sid, lines=lines) for sid, lines in batches.items()]
