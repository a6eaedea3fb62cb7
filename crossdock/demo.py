"""The demo feed: realistic cross-border orders placed on the sandbox channels.

Orders go where real ones would come from: Amazon and eBay orders are created in the
sandbox marketplaces (and reach us through the pollers), storefront orders go through
the sandbox shop's checkout (which posts them to intake). Buyers are numbered demo
buyers, not invented people.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from crossdock.catalog import Catalog, default_catalog
from crossdock.models.order import Address, Buyer, Channel, Incoterm, LineItem, Order
from crossdock.money import Money

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Destination:
    country: str
    city: str
    postal_code: str
    currency: str
    region: str = ""


DESTINATIONS = [
    Destination("DE", "Berlin", "10115", "EUR"),
    Destination("FR", "Lyon", "69001", "EUR"),
    Destination("IT", "Milano", "20121", "EUR"),
    Destination("ES", "Valencia", "46001", "EUR"),
    Destination("NL", "Utrecht", "3511", "EUR"),
    Destination("GB", "Manchester", "M1 1AE", "GBP"),
    Destination("US", "Portland", "97205", "USD", region="OR"),
    Destination("JP", "Osaka", "530-0001", "JPY"),
    Destination("AU", "Brisbane", "4000", "AUD", region="QLD"),
    Destination("CA", "Calgary", "T2P 1J9", "CAD", region="AB"),
]

# Business buyers whose names come close to entries of the sample denied-party list: most
# are held for an operator's review (a fuzzy match); "Co Ltd" normalises to an exact
# match of a listed company, so that order is refused outright.
NEAR_MISS_BUYERS = [
    "Sample Sanctioned Tradings LLC",
    "Example Embargoed Logistic GmbH",
    "Demo Restricted Shipping Co Ltd",
]

# Regular demo buyers are numbered 90000 and up (random ones may share a number).
REGULAR_BUYERS = 5

# The storefront's flat fee per currency; intake refuses a storefront order charging another.
SHIPPING_FEE = default_catalog().shipping
CHANNEL_PREFIX = {Channel.AMAZON: "amazon", Channel.EBAY: "ebay"}


class DemoOrders:
    """A seeded generator: the same seed gives the same orders."""

    def __init__(
        self,
        seed: int,
        catalog: Catalog | None = None,
        decline_rate: float = 0.05,
        review_rate: float = 0.06,
        deliver_within: timedelta = timedelta(days=12),
        billing_abroad_rate: float = 0.0,
        regular_rate: float = 0.0,
    ) -> None:
        self.random = random.Random(seed)
        self.catalog = catalog or default_catalog()
        # Share of storefront checkouts with a card that will be declined, so the demo
        # shows cancellations too.
        self.decline_rate = decline_rate
        # Share of orders from buyers that screening sends to review.
        self.review_rate = review_rate
        self.deliver_within = deliver_within
        # Share of orders paid with a card billed in another country than the ship-to
        # (a risk rule). Zero draws nothing, so a seed gives the orders it always gave.
        self.billing_abroad_rate = billing_abroad_rate
        # Share of orders from a few regular buyers, whose many orders a day trip the
        # velocity rule. Zero draws nothing, as above.
        self.regular_rate = regular_rate

    def _order_id(self, channel: Channel) -> str:
        r = self.random
        if channel is Channel.AMAZON:
            return (
                f"{r.randint(100, 999)}-{r.randint(10**6, 10**7 - 1)}-{r.randint(10**6, 10**7 - 1)}"
            )
        if channel is Channel.EBAY:
            return (
                f"{r.randint(10, 99)}-{r.randint(10**4, 10**5 - 1)}-{r.randint(10**4, 10**5 - 1)}"
            )
        return f"SF{r.randint(10**7, 10**8 - 1)}"

    def _items(self, currency: str, channel: Channel) -> list[LineItem]:
        products = self.random.sample(self.catalog.products(), k=self.random.choice([1, 1, 2, 3]))
        return [
            LineItem(
                sku=p.sku,
                title=p.title,
                quantity=self.random.choice([1, 1, 1, 2]),
                unit_price=p.price(currency),
                hs_code=p.hs_code,
                origin_country=p.origin_country,
                weight_grams=p.weight_grams,
                line_id=f"{index + 1:02d}{self.random.randint(10**9, 10**10 - 1)}"
                if channel is not Channel.STOREFRONT
                else "",
            )
            for index, p in enumerate(products)
        ]

    def next(self, now: datetime | None = None, channel: Channel | None = None) -> Order:
        """One more order on `channel` (random if None) to a random destination."""
        now = now or datetime.now(UTC)
        channel = channel or self.random.choice(list(Channel))
        dest = self.random.choice(DESTINATIONS)
        number = self._regular() or f"{self.random.randint(0, 99999):05d}"
        name = f"Demo buyer {number}"
        if self.random.random() < self.review_rate:
            name = self.random.choice(NEAR_MISS_BUYERS)
        return Order(
            channel=channel,
            channel_order_id=self._order_id(channel),
            buyer=Buyer(name=name, email=f"buyer-{number}@example.com"),
            ship_to=Address(
                name=name,
                line1=f"{self.random.randint(1, 200)} Demo Street",
                city=dest.city,
                region=dest.region,
                postal_code=dest.postal_code,
                country=dest.country,
            ),
            items=self._items(dest.currency, channel),
            currency=dest.currency,
            shipping=Money(amount=SHIPPING_FEE[dest.currency], currency=dest.currency),
            placed_at=now,
            ship_by=now + min(timedelta(days=2), self.deliver_within / 3),
            deliver_by=now + self.deliver_within,
            incoterm=Incoterm.DDP if channel is Channel.STOREFRONT else Incoterm.DAP,
            payment_method=self._payment_method() if channel is Channel.STOREFRONT else None,
            billing_country=self._billing_country(dest),
        )

    def _regular(self) -> str | None:
        if self.regular_rate <= 0 or self.random.random() >= self.regular_rate:
            return None
        return f"9{self.random.randint(0, REGULAR_BUYERS - 1):04d}"

    def _billing_country(self, dest: Destination) -> str:
        if self.billing_abroad_rate <= 0 or self.random.random() >= self.billing_abroad_rate:
            return dest.country
        return self.random.choice([d.country for d in DESTINATIONS if d.country != dest.country])

    def _payment_method(self) -> str:
        declined = self.random.random() < self.decline_rate
        return "pm_card_chargeDeclined" if declined else "pm_card_visa"


async def place(http: httpx.AsyncClient, order: Order) -> None:
    """Place `order` on its sandbox channel, as a buyer would."""
    body = order.model_dump(mode="json")
    if order.channel is Channel.STOREFRONT:
        response = await http.post("/storefront/checkout", json=body)
    else:
        response = await http.post(f"/{CHANNEL_PREFIX[order.channel]}/_sandbox/orders", json=body)
    response.raise_for_status()


async def run_feed(
    sandbox_url: str, orders_per_minute: float, seed: int, deliver_within: timedelta
) -> None:
    """Place orders until cancelled, at a steady rate."""
    generator = DemoOrders(
        seed=seed + int(datetime.now(UTC).timestamp()),
        deliver_within=deliver_within,
        billing_abroad_rate=0.1,
        regular_rate=0.1,
    )
    interval = 60.0 / orders_per_minute
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10.0) as http:
        while True:
            order = generator.next()
            try:
                await place(http, order)
                log.info(
                    "demo_order_placed",
                    channel=order.channel,
                    id=order.channel_order_id,
                    destination=order.ship_to.country,
                    total=str(order.order_total),
                )
            except httpx.HTTPError as err:
                log.warning("demo_order_failed", error=str(err))
            await asyncio.sleep(interval)
