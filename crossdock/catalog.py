"""The seller's product catalog: what a marketplace does not tell us about an item.

Marketplaces send SKU, title, quantity and price; customs and the carrier need the HS
code, country of origin and weight, which only the seller knows. Intake completes each
marketplace line from here; an unknown SKU is refused by name.

The seller's own storefront sells at the catalog's list prices and flat shipping fee per
currency, so intake checks each storefront order against it (`mismatches`): a line,
price, customs fact or shipping fee the catalog does not have is refused by field.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel

from crossdock.models.order import LineItem, Order
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
    def __init__(self, products: list[Product], shipping: dict[str, int] | None = None) -> None:
        self._by_sku = {product.sku: product for product in products}
        # The storefront's flat shipping fee per currency, minor units.
        self.shipping = dict(shipping or {})

    def __getitem__(self, sku: str) -> Product:
        try:
            return self._by_sku[sku]
        except KeyError:
            raise UnknownSku(f"SKU {sku!r} is not in the catalog") from None

    def products(self) -> list[Product]:
        return list(self._by_sku.values())

    def mismatches(self, order: Order) -> list[tuple[str, str]]:
        """(field, why) for everything in a storefront `order` the catalog contradicts:
        unknown SKUs, currencies without a list price, prices, titles, customs facts,
        and the shipping fee. Empty when the order is what the shop sells."""
        found = [m for i, item in enumerate(order.items) for m in self._line(i, item, order)]
        fee = self.shipping.get(order.currency)
        if fee is None:
            found.append(("currency", f"the storefront does not sell in {order.currency}"))
        elif order.shipping.amount != fee:
            found.append(("shipping", f"is {order.shipping}, the shop charges {fee} minor units"))
        return found

    def _line(self, index: int, item: LineItem, order: Order) -> list[tuple[str, str]]:
        at = f"items[{index}]"
        product = self._by_sku.get(item.sku)
        if product is None:
            return [(f"{at}.sku", f"{item.sku!r} is not in the catalog")]
        listed = product.prices.get(order.currency)
        if listed is None:
            return [(f"{at}.unit_price", f"{item.sku} has no list price in {order.currency}")]
        found = []
        if item.unit_price.amount != listed:
            found.append(
                (
                    f"{at}.unit_price",
                    f"is {item.unit_price}, the list price is {listed} minor units",
                )
            )
        for name in ("title", "hs_code", "origin_country", "weight_grams"):
            if getattr(item, name) != getattr(product, name):
                found.append((f"{at}.{name}", f"the catalog says {getattr(product, name)!r}"))
        return found


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The catalog shipped in crossdock/data/catalog.json."""
    text = resources.files("crossdock.data").joinpath("catalog.json").read_text()
    data = json.loads(text)
    return Catalog([Product.model_validate(p) for p in data["products"]], data.get("shipping"))
