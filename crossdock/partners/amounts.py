"""Amounts as partners write them: a decimal string ("19.99") or a JSON number (19.99,
which eBay's Post-Order `Amount.value` is typed as), read exactly, never through float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from crossdock.money import Money


def exact_json(response: httpx.Response) -> Any:
    """The response's JSON with every fractional number as a `Decimal`: `19.99` read as
    a float is 19.989999..., which `Money.parse` rightly refuses as three-plus places."""
    return json.loads(response.content, parse_float=Decimal)


def partner_money(value: Any, currency: str) -> Money:
    """`value` (a decimal string, an integer or an exact `Decimal`) in `currency`.

    Raises:
        ValueError: `value` is a float (read the body with `exact_json`), a bool, or not
            an amount `currency` can hold exactly.
    """
    if isinstance(value, bool):
        raise ValueError(f"amount {value!r} is not a number")
    if isinstance(value, float):
        raise ValueError(f"amount {value!r} arrived as a float; read the body with exact_json")
    if isinstance(value, int):
        value = Decimal(value)
    return Money.parse(value, currency)
