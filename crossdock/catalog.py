"""The seller's product catalog: what a marketplace does not tell us about an item.

Marketplaces send SKU, title, quantity and price; customs and the carrier need the HS
code, country of origin and weight, which only the seller knows. Intake completes each
marketplace line from here; an unknown SKU is refused by name.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel

from crossdock.money import Money


class Product(BaseModel):
    sku: str
    title: str
    hs_code: str
    origin_country: str
    weight_grams: int
    prices: dict[str, int]  # list price per currency, minor units

    def price(self, currency: str) -> Money:
        if currency not in self.prices:
            raise KeyError(f"{self.sku} has no list price in {currency}")
        return Money(amount=self.prices[currency], currency=currency)


class UnknownSku(KeyError):
    pass


class Catalog:
    def __init__(self, products: list[Product]) -> None:
        self._by_sku = {product.sku: product for product in products}

    def __getitem__(self, sku: str) -> Product:
        try:
            return self._by_sku[sku]
        except KeyError:
            raise UnknownSku(f"SKU {sku!r} is not in the catalog") from None

    def products(self) -> list[Product]:
        return list(self._by_sku.values())


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The catalog shipped in crossdock/data/catalog.json."""
    text = resources.files("crossdock.data").joinpath("catalog.json").read_text()
    return Catalog([Product.model_validate(p) for p in json.loads(text)["products"]])
