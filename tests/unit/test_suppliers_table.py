"""The suppliers table (crossdock/data/suppliers.json): loaded and checked, and which
returned lines go back to which supplier."""

from __future__ import annotations

from typing import Any

import pytest

from crossdock.models.returns import InspectedLine, InspectionVerdict, ReturnLine
from crossdock.money import Money
from crossdock.policies._data import load_table
from crossdock.policies.suppliers import SUPPLIERS, load_suppliers, supplier_batches


def table(**changes: Any) -> dict[str, Any]:
    shipped = load_table("suppliers.json")
    return {**shipped, **changes}


def test_the_shipped_table_loads_with_costs_in_each_suppliers_currency() -> None:
    mill = SUPPLIERS.supplier_of("SCARF-WOOL")
    assert mill is not None and mill.id == "sup-highland-mill"
    assert (mill.currency, mill.rma_window_days, mill.credits_damaged) == ("GBP", 60, True)
    assert SUPPLIERS.skus["SCARF-WOOL"].unit_cost == Money(amount=1750, currency="GBP")
    assert SUPPLIERS.skus["TEA-MATCHA-50"].unit_cost == Money(amount=1100, currency="JPY")
    assert SUPPLIERS.supplier_of("MUG-STONEWARE") is None  # our own stock


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"skus": {"SCARF-WOOL": {"supplier": "sup-nobody", "unit_cost": "1.00"}}},
            "skus.SCARF-WOOL.supplier 'sup-nobody' is not a supplier",
        ),
        (
            {"skus": {"LAMP-BRASS": {"supplier": "sup-highland-mill", "unit_cost": "1.00"}}},
            "'LAMP-BRASS'] are not in the catalog",
        ),
        (
            {"skus": {"TEA-MATCHA-50": {"supplier": "sup-uji-tea", "unit_cost": "11.50"}}},
            "more than 0 decimal places for JPY",
        ),
    ],
)
def test_a_bad_table_is_refused_naming_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_suppliers(table(**changes))


def test_a_supplier_with_a_bad_window_is_refused() -> None:
    suppliers = load_table("suppliers.json")["suppliers"]
    bad = {**suppliers, "sup-uji-tea": {**suppliers["sup-uji-tea"], "rma_window_days": 0}}
    with pytest.raises(ValueError, match="rma_window_days"):
        load_suppliers(table(suppliers=bad))


def test_returned_lines_are_batched_per_supplier_without_own_stock_or_wrong_items() -> None:
    returned = [
        ReturnLine(sku="MUG-STONEWARE", quantity=2),
        ReturnLine(sku="TEA-MATCHA-50", quantity=3),
        ReturnLine(sku="SCARF-WOOL", quantity=1),
        ReturnLine(sku="WALLET-LEATHER", quantity=1),
    ]
    inspected = [
        InspectedLine(sku="MUG-STONEWARE", verdict=InspectionVerdict.ACCEPTED),
        InspectedLine(sku="TEA-MATCHA-50", verdict=InspectionVerdict.PARTIAL, refund_percent=40),
        InspectedLine(sku="SCARF-WOOL", verdict=InspectionVerdict.WRONG_ITEM),
        InspectedLine(sku="WALLET-LEATHER", verdict=InspectionVerdict.DAMAGED),
    ]
    [batch] = supplier_batches(returned, inspected)
    assert batch.supplier_id == "sup-uji-tea"
    assert [(line.sku, line.quantity, line.condition) for line in batch.lines] == [
        ("TEA-MATCHA-50", 3, InspectionVerdict.PARTIAL)
    ]
    accepted = [InspectedLine(sku="SCARF-WOOL", verdict=InspectionVerdict.ACCEPTED), *inspected[:2]]
    batches = supplier_batches(returned, accepted)
    assert [b.supplier_id for b in batches] == ["sup-uji-tea", "sup-highland-mill"]
