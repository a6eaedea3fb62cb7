"""Marketplace orders (Amazon SP-API, eBay Fulfillment) → the Crossdock `Order` contract.

Marketplaces tell us SKU, title, quantity and price; the HS code, origin and weight come
from the seller's catalog. Anything missing or invalid raises with the field named, and
the order is refused at intake rather than started half-known.
"""

from __future__ import annotations

from datetime import timedelta

from crossdock.catalog import Catalog
from crossdock.models.order import Channel, Incoterm, LineItem, Order
from crossdock.money import Money
from crossdock.partners.amazon import AmazonOrder, AmazonOrderItem, shipping_total
from crossdock.partners.ebay import EbayOrder

# When a marketplace gives no deadline (rare), assume its usual handling time.
DEFAULT_HANDLING = timedelta(days=2)
DEFAULT_DELIVERY = timedelta(days=14)


def catalog_line(
    catalog: Catalog,
    sku: str | None,
    title: str | None,
    quantity: int,
    unit_price: Money,
    line_id: str,
) -> LineItem:
    """A marketplace line completed with the catalog's customs data."""
    if not sku:
        raise ValueError(f"line {line_id} has no SKU, so its HS code and origin are unknown")
    product = catalog[sku]
    return LineItem(
        sku=sku,
        title=title or product.title,
        quantity=quantity,
        unit_price=unit_price,
        hs_code=product.hs_code,
        origin_country=product.origin_country,
        weight_grams=product.weight_grams,
        line_id=line_id,
    )


def from_amazon(order: AmazonOrder, items: list[AmazonOrderItem], catalog: Catalog) -> Order:
    currency = order.currency
    placed = order.purchase_date
    ship_by = order.latest_ship_date or placed + DEFAULT_HANDLING
    return Order(
        channel=Channel.AMAZON,
        channel_order_id=order.amazon_order_id,
        buyer=order.buyer(),
        ship_to=order.ship_to(),
        items=[
            catalog_line(
                catalog, i.seller_sku, i.title, i.quantity_ordered, i.unit_price(), i.order_item_id
            )
            for i in items
        ],
        currency=currency,
        shipping=shipping_total(items, currency),
        placed_at=placed,
        ship_by=ship_by,
        deliver_by=order.latest_delivery_date or ship_by + DEFAULT_DELIVERY,
        incoterm=Incoterm.DAP,
        # The Orders API does not expose the buyer's billing address for seller-fulfilled
        # orders: Amazon orders carry no billing country.
    )


def from_ebay(order: EbayOrder, catalog: Catalog) -> Order:
    return Order(
        channel=Channel.EBAY,
        channel_order_id=order.order_id,
        buyer=order.buyer_contact(),
        ship_to=order.ship_to(),
        items=[
            catalog_line(catalog, i.sku, i.title, i.quantity, i.unit_price(), i.line_item_id)
            for i in order.line_items
        ],
        currency=order.currency,
        shipping=order.shipping(),
        placed_at=order.creation_date,
        ship_by=order.ship_by(),
        deliver_by=order.deliver_by(),
        incoterm=Incoterm.DAP,
        billing_country=order.billing_country(),
    )
