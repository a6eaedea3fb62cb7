"""The replacement order built for a return: the returned lines only, a fresh delivery
promise, an id derived from the RMA that fits the channel order id's 64 characters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crossdock.models.returns import ReturnLine
from crossdock.replacements import replacement_id, replacement_order
from tests.factories import NOW, line_item, order


def test_only_the_returned_lines_at_their_quantities_with_the_same_promise() -> None:
    o = order(items=[line_item(quantity=3), line_item(sku="TEE-ORGANIC-M", line_id="2")])
    later = NOW + timedelta(days=20)
    again = replacement_order(o, [ReturnLine(sku="MUG-STONEWARE", quantity=1)], "RMA-7/1", later)
    assert [(i.sku, i.quantity) for i in again.items] == [("MUG-STONEWARE", 1)]
    assert again.channel_order_id == f"{o.channel_order_id}-RRMA71"
    assert (again.placed_at, again.ship_by - again.placed_at) == (later, o.ship_by - o.placed_at)
    assert again.ship_to == o.ship_to and again.buyer == o.buyer


def test_a_line_not_on_the_order_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"lines\[0\]: 9x MUG-STONEWARE is not on order"):
        replacement_order(order(), [ReturnLine(sku="MUG-STONEWARE", quantity=9)], "1", NOW)


def test_a_long_rma_keeps_its_tail_within_64_characters() -> None:
    made = replacement_id("X" * 50, "5000123456789012345")
    assert len(made) == 64 and made.endswith("6789012345")
