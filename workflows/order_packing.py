"""Packing an order into parcels no heavier than a carrier accepts (pure, deterministic).

First fit, heaviest units first: an order that fits in one parcel stays one parcel, a
unit heavier than the limit travels alone (the carrier will say if it refuses it), and a
line may be split across parcels when its units do not fit together.
"""

from __future__ import annotations

from collections import Counter

from crossdock.models.order import Order
from crossdock.models.packages import Package, PackedLine


def plan_packages(
    order: Order, max_grams: int, line_indexes: list[int] | None = None
) -> list[Package]:
    """Packages for the lines `line_indexes` (all lines by default), numbered from 1."""
    indexes = list(range(len(order.items))) if line_indexes is None else line_indexes
    units = sorted(
        ((order.items[i].weight_grams, i) for i in indexes for _ in range(order.items[i].quantity)),
        key=lambda unit: (-unit[0], unit[1]),
    )
    parcels: list[tuple[int, Counter[int]]] = []  # (weight, units per line index)
    for weight, index in units:
        for n, (load, contents) in enumerate(parcels):
            if load + weight <= max_grams:
                contents[index] += 1
                parcels[n] = (load + weight, contents)
                break
        else:
            parcels.append((weight, Counter({index: 1})))
    return [
        Package(
            number=number,
            lines=[PackedLine(line_index=i, quantity=q) for i, q in sorted(contents.items())],
        )
        for number, (_, contents) in enumerate(parcels, start=1)
    ]
