"""Packing an order into parcels no heavier than the carrier's limit (hypothesis): every
unit is packed exactly once, no parcel is over the limit unless one unit alone is, and an
order that fits in one parcel stays one."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from tests.factories import line_item, order
from workflows.order_packing import plan_packages

lines = st.lists(
    st.tuples(st.integers(min_value=1, max_value=6), st.integers(min_value=50, max_value=3000)),
    min_size=1,
    max_size=5,
)


@given(lines, st.integers(min_value=500, max_value=10_000))
def test_every_unit_is_packed_once_within_the_limit(
    spec: list[tuple[int, int]], max_grams: int
) -> None:
    o = order(
        items=[
            line_item(sku=f"SKU-{n}", quantity=q, weight_grams=w, line_id=str(n))
            for n, (q, w) in enumerate(spec)
        ]
    )
    packages = plan_packages(o, max_grams)
    packed: Counter[int] = Counter()
    for package in packages:
        for line in package.lines:
            packed[line.line_index] += line.quantity
        weight = package.weight_grams(o)
        heaviest = max(o.items[line.line_index].weight_grams for line in package.lines)
        assert weight <= max_grams or (weight == heaviest and len(package.lines) == 1)
    assert packed == Counter({n: q for n, (q, _) in enumerate(spec)})
    assert [p.number for p in packages] == list(range(1, len(packages) + 1))
    if o.weight_grams <= max_grams:
        assert len(packages) == 1
    assert sum(p.value(o).amount for p in packages) == o.items_total.amount


def test_only_the_lines_asked_for_are_packed() -> None:
    o = order(items=[line_item(line_id="1"), line_item(sku="TEE", line_id="2", quantity=1)])
    (package,) = plan_packages(o, 20_000, line_indexes=[1])
    assert package.goods(o).items == [o.items[1]]
