"""Prohibited and restricted goods per destination: the shipped table and the matching."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crossdock.catalog import default_catalog
from crossdock.models.screening import GoodsLevel, Outcome
from crossdock.policies.restricted import (
    RESTRICTED_GOODS,
    RestrictedGoodsTable,
    check_restricted_goods,
)
from tests.factories import line_item

DESTINATIONS = ["DE", "FR", "IT", "ES", "NL", "GB", "US", "JP", "AU", "CA"]


def level(hs_code: str, destination: str) -> GoodsLevel | None:
    hits = check_restricted_goods([line_item(hs_code=hs_code)], destination)
    return hits[0].level if hits else None


def catalog_code(sku: str) -> str:
    return default_catalog()[sku].hs_code


@pytest.mark.parametrize("destination", DESTINATIONS)
@pytest.mark.parametrize("sku", [p.sku for p in default_catalog().products()])
def test_catalog_goods_are_fine_everywhere_we_sell_except_knives_to_gb(
    sku: str, destination: str
) -> None:
    expected = GoodsLevel.RESTRICTED if (sku, destination) == ("KNIFE-SANTOKU", "GB") else None
    assert level(catalog_code(sku), destination) is expected


def test_knife_to_gb_says_what_would_make_it_shippable() -> None:
    [hit] = check_restricted_goods([line_item(hs_code=catalog_code("KNIFE-SANTOKU"))], "GB")

    assert hit.outcome is Outcome.REVIEW
    assert (hit.rule_prefix, hit.rule_scope) == ("8211", "GB")
    assert "Offensive Weapons Act 2019" in hit.reason
    assert "18 or over" in hit.requires
    assert hit.message.startswith("items[0].hs_code '821191' is restricted for GB: bladed")


def test_firearm_is_refused_naming_the_item_and_destination() -> None:
    items = [line_item(), line_item(hs_code="930100")]

    [hit] = check_restricted_goods(items, "AU")

    assert hit.outcome is Outcome.REFUSE
    assert hit.item_index == 1
    assert hit.message.startswith("items[1].hs_code '930100' is prohibited for AU")


@pytest.mark.parametrize(
    ("hs_code", "destination", "expected"),
    [
        ("090220", "AU", None),  # green tea (matcha) is fine in Australia
        ("020130", "AU", GoodsLevel.PROHIBITED),  # beef: biosecurity
        ("020130", "US", GoodsLevel.RESTRICTED),
        ("020130", "DE", None),
        ("040690", "AU", GoodsLevel.RESTRICTED),  # cheese: BICON
        ("060210", "AU", GoodsLevel.RESTRICTED),  # live plants
        ("120991", "AU", GoodsLevel.RESTRICTED),  # vegetable seeds for sowing
        ("120991", "DE", None),
        ("220421", "DE", GoodsLevel.RESTRICTED),  # wine: excise goods everywhere
        ("220421", "SA", GoodsLevel.PROHIBITED),
        ("220710", "FR", GoodsLevel.PROHIBITED),  # 80% ethanol: flammable
        ("240220", "DE", GoodsLevel.RESTRICTED),  # cigarettes
        ("240220", "AU", GoodsLevel.PROHIBITED),
        ("240220", "US", GoodsLevel.PROHIBITED),
        ("240311", "US", GoodsLevel.RESTRICTED),  # the US rule is for cigarettes only
        ("850760", "JP", GoodsLevel.RESTRICTED),  # lithium-ion batteries
        ("851830", "JP", None),  # headphones
        ("821193", "AU", GoodsLevel.RESTRICTED),  # folding knives
        ("360410", "CA", GoodsLevel.PROHIBITED),  # fireworks
    ],
)
def test_shipped_rules(hs_code: str, destination: str, expected: GoodsLevel | None) -> None:
    assert level(hs_code, destination) is expected


def test_destination_rule_wins_a_tie_with_the_default() -> None:
    [hit] = check_restricted_goods([line_item(hs_code="240220")], "AU")

    assert (hit.rule_scope, hit.rule_prefix, hit.level) == ("AU", "2402", GoodsLevel.PROHIBITED)


def test_the_most_severe_rule_decides_even_if_less_specific() -> None:
    # Alcohol is only restricted by default, but nothing may go to KP.
    [to_kp] = check_restricted_goods([line_item(hs_code="220421")], "KP")
    # Russia is restricted for all goods, but firearms are prohibited everywhere.
    [to_ru] = check_restricted_goods([line_item(hs_code="930100")], "RU")

    assert (to_kp.level, to_kp.rule_prefix, to_kp.category) == (
        GoodsLevel.PROHIBITED,
        "",
        "all goods",
    )
    assert "all goods" in to_kp.message
    assert (to_ru.level, to_ru.rule_scope, to_ru.rule_prefix) == (
        GoodsLevel.PROHIBITED,
        "default",
        "93",
    )


def test_among_equally_severe_rules_the_longest_prefix_is_reported() -> None:
    table = RestrictedGoodsTable.model_validate(
        {
            "as_of": "2025-10-01",
            "default": [
                {"prefix": "85", "level": "restricted", "category": "electrical", "reason": "a"},
                {"prefix": "850760", "level": "restricted", "category": "li-ion", "reason": "b"},
            ],
            "destinations": {
                "NZ": [{"prefix": "", "level": "restricted", "category": "all", "reason": "c"}]
            },
        }
    )

    [hit] = check_restricted_goods([line_item(hs_code="85076000")], "NZ", table)

    assert (hit.category, hit.rule_scope) == ("li-ion", "default")


def test_every_item_is_checked() -> None:
    items = [line_item(hs_code="821191"), line_item(), line_item(hs_code="930200")]

    hits = check_restricted_goods(items, "GB")

    assert [(h.item_index, h.level) for h in hits] == [
        (0, GoodsLevel.RESTRICTED),
        (2, GoodsLevel.PROHIBITED),
    ]


def test_the_table_is_dated_and_refuses_malformed_rules() -> None:
    assert RESTRICTED_GOODS.as_of.isoformat() == "2025-10-01"
    with pytest.raises(ValidationError, match="prefix"):
        RestrictedGoodsTable.model_validate(
            {
                "as_of": "2025-10-01",
                "default": [
                    {"prefix": "93A", "level": "prohibited", "category": "x", "reason": "y"}
                ],
                "destinations": {},
            }
        )
    with pytest.raises(ValidationError, match="alpha-2"):
        RestrictedGoodsTable.model_validate(
            {"as_of": "2025-10-01", "default": [], "destinations": {"Australia": []}}
        )
