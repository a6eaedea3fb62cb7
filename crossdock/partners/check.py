"""`crossdock partners check`: every read-only and test-mode call the partner clients make,
run against whatever the settings point at (the sandbox by default), one line each.

Nothing here moves money in live mode: Stripe and EasyPost calls that create objects
(a PaymentIntent authorized then voided, a label bought then refunded) run only with
test keys (`sk_test_`/`rk_test_`, `EZTK`); with live keys their places in the table say
"skipped (live key)". A refusal that proves the call reached the partner and was
authenticated (Stripe's `resource_missing` for an id that does not exist) counts as
working.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crossdock.config import Settings
from crossdock.models.order import LineItem
from crossdock.models.shipment import LabelRequest
from crossdock.money import Money
from crossdock.partners.clients import PartnerClients
from crossdock.partners.ebay_post_order import EbayPostOrderClient
from crossdock.partners.errors import PartnerError, PartnerRejected
from crossdock.partners.evidence_pdf import text_pdf
from crossdock.partners.pooled import PooledApis

SKIPPED = "skipped (live key)"


@dataclass(frozen=True)
class CheckResult:
    """One call: the partner, its documented operation, whether it worked, and why not."""

    partner: str
    operation: str
    ok: bool
    detail: str = ""


Probe = Callable[[], Awaitable[str]]


async def _run(partner: str, operation: str, probe: Probe) -> CheckResult:
    try:
        return CheckResult(partner, operation, True, await probe())
    except PartnerError as err:
        return CheckResult(partner, operation, False, str(err))
    except (ValueError, KeyError) as err:  # an answer our models do not read
        return CheckResult(partner, operation, False, f"unreadable answer: {err}")


def _test_mode(key: str, prefixes: tuple[str, ...]) -> bool:
    return key.startswith(prefixes)


class PartnerCheck:
    """The probes, over the clients a worker would build from `settings`."""

    def __init__(self, settings: Settings, partners: PartnerClients, apis: PooledApis) -> None:
        self.settings = settings
        self.partners = partners
        self.apis = apis
        # Keys of this run only: a second run must not replay the first one's answers.
        self.run = f"partners-check-{secrets.token_hex(4)}"
        self.since = datetime.now(UTC) - timedelta(days=7)

    async def results(self) -> list[CheckResult]:
        """Every probe, in table order."""
        found: list[CheckResult] = []
        for partner, operation, probe in self._probes():
            found.append(await _run(partner, operation, probe))
        return found

    def _probes(self) -> list[tuple[str, str, Probe]]:
        return [*self._stripe(), *self._easypost(), *self._amazon(), *self._ebay()]

    # --- Stripe ---------------------------------------------------------------------

    def _stripe(self) -> list[tuple[str, str, Probe]]:
        stripe = self.apis.stripe_disputes
        test = _test_mode(self.settings.payments_api_key, ("sk_test_", "rk_test_"))

        async def retrieve_missing() -> str:
            try:
                await stripe.retrieve("pi_partners_check_missing")
            except PartnerRejected as err:
                if err.code == "resource_missing":
                    return "authenticated (resource_missing for an unknown id)"
                raise
            return "answered"

        async def authorize_and_void() -> str:
            if not test:
                return SKIPPED
            held = await stripe.authorize(
                Money(amount=100, currency="EUR"), "pm_card_visa", self.run, f"{self.run}:auth"
            )
            voided = await stripe.cancel(held.id, f"{self.run}:void")
            return f"{held.id} {held.status} then {voided.status}"

        async def upload_file() -> str:
            if not test:
                return SKIPPED
            pdf = text_pdf("Crossdock partners check", "A test upload; no dispute uses it.")
            return await stripe.upload_evidence_file("check", pdf, "check.pdf", f"{self.run}:file")

        return [
            ("stripe", "GetPaymentIntentsIntent", retrieve_missing),
            ("stripe", "PostPaymentIntents + Cancel (test mode)", authorize_and_void),
            ("stripe", "PostFiles (dispute_evidence, test mode)", upload_file),
        ]

    # --- EasyPost -------------------------------------------------------------------

    def _easypost(self) -> list[tuple[str, str, Probe]]:
        carrier = self.partners.carrier
        test = _test_mode(self.settings.carrier_api_key, ("EZTK",))
        origin = self.settings.ship_from

        async def verify() -> str:
            found = await carrier.verify_address(origin)
            return "deliverable" if found.deliverable else "; ".join(found.errors)

        async def label_round_trip() -> str:
            if not test:
                return SKIPPED
            item = LineItem(
                sku="CHECK",
                title="Partners check",
                quantity=1,
                unit_price=Money(amount=100, currency="USD"),
                hs_code="6912.00",
                origin_country=origin.country,
                weight_grams=100,
            )
            request = LabelRequest(
                reference=self.run,
                to_address=origin,
                from_address=origin,
                items=[item],
                weight_grams=100,
                currency="USD",
            )
            label = await carrier.buy_label(request, f"{self.run}:label")
            shipment = await carrier.retrieve_shipment(label.shipment_id)
            await carrier.refund_label(label.shipment_id, f"{self.run}:refund")
            return f"{label.tracking_code} bought, {shipment.id} read, refunded"

        return [
            ("easypost", "CreateAddress (verify)", verify),
            ("easypost", "CreateShipment + Buy + Retrieve + Refund (test mode)", label_round_trip),
        ]

    # --- Amazon ---------------------------------------------------------------------

    def _amazon(self) -> list[tuple[str, str, Probe]]:
        amazon = self.partners.amazon

        async def orders() -> str:
            page = await amazon.get_orders(self.since, max_results_per_page=5)
            return f"{len(page.orders)} order(s) in the last 7 days (restricted data token)"

        async def one_order() -> str:
            page = await amazon.get_orders(self.since, max_results_per_page=1)
            if not page.orders:
                return "no recent order to read"
            order_id = page.orders[0].amazon_order_id
            order = await amazon.get_order(order_id)
            items = await amazon.get_order_items(order_id)
            order.ship_to()  # the restricted address lines arrived
            return f"{order_id}: {len(items)} item(s), address readable"

        async def claims() -> str:
            return f"{len(await self.apis.amazon_claims.claims())} A-to-z claim(s)"

        return [
            ("amazon", "createRestrictedDataToken + getOrders", orders),
            ("amazon", "getOrder + getOrderItems", one_order),
            ("amazon", "A-to-z claims list", claims),
        ]

    # --- eBay -----------------------------------------------------------------------

    def _ebay(self) -> list[tuple[str, str, Probe]]:
        ebay = self.partners.ebay
        settings = self.settings
        post_order = EbayPostOrderClient(
            settings.ebay_base_url, settings.ebay_access_token, http=ebay.http
        )

        async def orders() -> str:
            page = await ebay.get_orders(self.since, limit=5)
            return f"{page.total} order(s) in the last 7 days"

        async def payment_disputes() -> str:
            found = await self.apis.ebay_disputes.summaries(page_size=10)
            return f"{len(found)} payment dispute(s)"

        async def cases() -> str:
            return f"{len(await self.apis.ebay_cases.search())} case(s)"

        async def returns() -> str:
            found = await self.apis.ebay_return_requests.search(self.since)
            return f"{len(found)} return request(s)"

        async def cancellations() -> str:
            found = await post_order.search_cancellations(self.since)
            return f"{len(found)} cancellation request(s)"

        return [
            ("ebay", "getOrders", orders),
            ("ebay", "getPaymentDisputeSummaries", payment_disputes),
            ("ebay", "Post-Order case search", cases),
            ("ebay", "Post-Order return search", returns),
            ("ebay", "Post-Order cancellation search", cancellations),
        ]


async def check_partners(settings: Settings) -> list[CheckResult]:
    """Run every probe against the partners `settings` point at."""
    partners = PartnerClients.from_settings(settings)
    try:
        return await PartnerCheck(settings, partners, PooledApis.over(partners, settings)).results()
    finally:
        await partners.aclose()


def describe(results: list[CheckResult]) -> list[tuple[str, str, str, str]]:
    """Rows for a table: partner, operation, "ok" / "FAILED", detail."""
    return [(r.partner, r.operation, "ok" if r.ok else "FAILED", r.detail) for r in results]


def print_results(results: list[CheckResult]) -> None:
    """The results as a table on the terminal, green for what works."""
    from rich.console import Console
    from rich.table import Table

    table = Table("partner", "operation", "result", "detail")
    for partner, operation, result, detail in describe(results):
        colour = "green" if result == "ok" else "red"
        table.add_row(partner, operation, f"[{colour}]{result}[/{colour}]", detail)
    Console().print(table)
