"""The duty and tax rules, computed by hand: thresholds, regimes, FX, rounding, incoterms,
and the dated rules: an order on each side of every change date."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from crossdock.money import Money
from crossdock.sandbox.customs.rules import (
    CustomsItem,
    CustomsRuleError,
    LandedCostInput,
    LandedCostQuote,
    Regime,
    allocate,
    default_rules,
    quote_landed_cost,
)

# Today's orders: the fixed date the undated tests quote for.
TODAY = date(2026, 11, 2)

EU_MEMBERS = set(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)


def item(
    amount: int,
    currency: str = "EUR",
    *,
    quantity: int = 1,
    hs_code: str = "610910",
    origin: str = "PT",
    sku: str = "TEE",
) -> CustomsItem:
    return CustomsItem(
        sku=sku,
        hs_code=hs_code,
        origin_country=origin,
        quantity=quantity,
        unit_price=Money(amount=amount, currency=currency),
    )


def quote(
    country: str,
    *items: CustomsItem,
    shipping: int = 0,
    incoterm: str = "DDP",
    on: date = TODAY,
    ship_from: str | None = None,
    transport: str = "courier",
) -> LandedCostQuote:
    currency = items[0].unit_price.currency
    request = LandedCostInput(
        destination_country=country,
        currency=currency,
        incoterm=incoterm,
        shipping=Money(amount=shipping, currency=currency),
        items=list(items),
        sale_date=on,
        ship_from_country=ship_from,
        transport=transport,
    )
    return quote_landed_cost(request, "lcq_test")


def amounts(q: LandedCostQuote) -> tuple[Regime, int, int]:
    return q.regime, q.duties.amount, q.taxes.amount


class TestEuIoss:
    def test_at_150_euros_vat_and_the_flat_duty_are_collected_at_sale(self) -> None:
        q = quote("DE", item(7500, quantity=2), shipping=1000)
        # One tariff line: EUR 3 flat duty; VAT 19% on goods + shipping: 0.19 * 16000.
        assert amounts(q) == (Regime.IOSS, 300, 3040)
        assert q.collected_at_sale

    def test_one_cent_above_150_euros_pays_duty_and_import_vat(self) -> None:
        q = quote("DE", item(15001), shipping=1000)
        # Duty 12% (chapter 61) on CIF 16001 = 1920.12; VAT 19% on 16001 + 1920 = 3404.99.
        assert amounts(q) == (Regime.STANDARD, 1920, 3405)
        assert not q.collected_at_sale

    def test_threshold_is_the_goods_value_without_shipping(self) -> None:
        assert quote("DE", item(15000), shipping=5000).regime is Regime.IOSS

    def test_vat_rate_is_the_destination_member_state_rate(self) -> None:
        taxes = {c: quote(c, item(10000)).taxes.amount for c in ("DE", "FR", "HU", "LU")}
        assert taxes == {"DE": 1900, "FR": 2000, "HU": 2700, "LU": 1700}

    def test_every_member_state_has_ioss_and_a_standard_vat_rate(self) -> None:
        rules = default_rules()
        for country in EU_MEMBERS:
            rule = rules.destination(country, TODAY)
            assert rule.at_sale is not None and rule.at_sale.regime is Regime.IOSS
            assert Decimal("0.17") <= rule.tax_rate <= Decimal("0.27"), country


class TestUnitedKingdom:
    def test_135_pounds_is_vat_at_sale(self) -> None:
        q = quote("GB", item(13500, "GBP"), shipping=500)
        assert amounts(q) == (Regime.UK_VAT_AT_SALE, 0, 2800)  # 20% of 14000

    def test_above_135_pounds_pays_duty_and_import_vat(self) -> None:
        q = quote("GB", item(13501, "GBP"), shipping=500)
        # Duty 12% of 14001 = 1680.12; VAT 20% of 14001 + 1680 = 3136.2.
        assert amounts(q) == (Regime.STANDARD, 1680, 3136)


class TestUnitedStates:
    def test_no_de_minimis_duty_from_the_first_dollar(self) -> None:
        q = quote("US", item(100, "USD"), shipping=2000)
        # 16.5% of $1.00 = 16.5 cents, rounded half up; FOB: shipping is not dutiable.
        assert amounts(q) == (Regime.STANDARD, 17, 0)
        assert any("suspended" in note for note in q.notes)


class TestJapan:
    def test_10000_yen_is_duty_and_tax_free(self) -> None:
        assert amounts(quote("JP", item(10000, "JPY"), shipping=1500)) == (Regime.DE_MINIMIS, 0, 0)

    def test_above_10000_yen_pays_duty_and_consumption_tax_in_whole_yen(self) -> None:
        q = quote("JP", item(10001, "JPY"), shipping=1500)
        # Duty 9% of CIF 11501 = 1035.09; tax 10% of 11501 + 1035 = 1253.6.
        assert amounts(q) == (Regime.STANDARD, 1035, 1254)


class TestCanada:
    def test_20_dollars_is_duty_and_tax_free_from_anywhere(self) -> None:
        q = quote("CA", item(2000, "CAD", origin="CN"), ship_from="DE")
        assert amounts(q) == (Regime.DE_MINIMIS, 0, 0)

    def test_above_20_dollars_from_outside_cusma_pays_duty_and_gst(self) -> None:
        q = quote("CA", item(4000, "CAD", origin="CN"), ship_from="DE")
        # Duty 18% FOB of 4000 = 720; GST 5% of 4000 + 720 = 236.
        assert amounts(q) == (Regime.STANDARD, 720, 236)

    def test_courier_from_the_us_up_to_40_dollars_is_duty_and_tax_free(self) -> None:
        assert amounts(quote("CA", item(4000, "CAD", origin="CN"), ship_from="US")) == (
            Regime.DE_MINIMIS,
            0,
            0,
        )

    def test_courier_from_the_us_up_to_150_dollars_pays_gst_but_no_duty_whatever_the_origin(
        self,
    ) -> None:
        q = quote("CA", item(15000, "CAD", origin="CN"), shipping=1000, ship_from="US")
        assert amounts(q) == (Regime.DE_MINIMIS, 0, 800)  # 5% GST of 16000

    def test_goods_of_us_origin_shipped_from_elsewhere_pay_duty(self) -> None:
        q = quote("CA", item(15000, "CAD", origin="US"), shipping=1000, ship_from="DE")
        # Duty 18% FOB of 15000 = 2700; GST 5% of 15000 + 1000 + 2700 = 935.
        assert amounts(q) == (Regime.STANDARD, 2700, 935)

    def test_by_post_from_the_us_the_20_dollar_threshold_applies(self) -> None:
        q = quote("CA", item(4000, "CAD"), ship_from="US", transport="postal")
        assert q.regime is Regime.STANDARD

    def test_courier_from_mexico_above_150_dollars_pays_duty(self) -> None:
        assert quote("CA", item(15001, "CAD"), ship_from="MX").regime is Regime.STANDARD


class TestAustralia:
    def test_up_to_1000_dollars_gst_is_collected_at_sale(self) -> None:
        q = quote("AU", item(100000, "AUD"), shipping=2000)
        assert amounts(q) == (Regime.AU_GST_AT_SALE, 0, 10200)
        assert q.collected_at_sale

    def test_above_1000_dollars_pays_duty_and_border_gst(self) -> None:
        q = quote("AU", item(100001, "AUD"), shipping=2000)
        # Duty 5% FOB of 100001 = 5000.05; GST 10% of 100001 + 2000 + 5000 = 10700.1.
        assert amounts(q) == (Regime.STANDARD, 5000, 10700)


class TestFx:
    @pytest.mark.parametrize(
        ("usd", "euros", "regime"),
        [
            (17610, 14999, Regime.IOSS),
            (17611, 15000, Regime.IOSS),  # 14999.57 rounds half up to 150.00
            (17612, 15000, Regime.IOSS),
            (17613, 15001, Regime.STANDARD),
        ],
    )
    def test_threshold_applies_to_the_converted_value(
        self, usd: int, euros: int, regime: Regime
    ) -> None:
        q = quote("DE", item(usd, "USD"))
        assert q.intrinsic_value == Money(amount=euros, currency="EUR")
        assert q.regime is regime

    def test_the_rate_used_is_recorded(self) -> None:
        fx = quote("DE", item(1000, "USD")).fx
        assert fx is not None
        assert (fx.source, fx.target, str(fx.as_of)) == ("USD", "EUR", "2025-10-01")
        assert fx.rate == Decimal("0.851716")  # 1 / 1.1741, 6 places

    def test_no_conversion_no_rate(self) -> None:
        assert quote("DE", item(1000)).fx is None

    def test_quote_currency_is_the_sale_currency(self) -> None:
        q = quote("GB", item(3350, "JPY"))
        # Thresholds are checked in GBP, but the VAT (20%) is quoted in the sale's yen.
        assert q.intrinsic_value.currency == "GBP"
        assert q.taxes == Money(amount=670, currency="JPY")


class TestRounding:
    def test_half_yen_rounds_up(self) -> None:
        # 19% of 3350 yen = 636.5 yen.
        assert quote("DE", item(3350, "JPY")).taxes == Money(amount=637, currency="JPY")

    def test_lines_round_separately_and_add_up_to_the_totals(self) -> None:
        q = quote(
            "DE",
            item(10001, sku="A"),
            item(10001, sku="B", hs_code="420231"),
            item(3333, sku="C", hs_code="691200"),
            shipping=999,
        )
        assert q.regime is Regime.STANDARD
        assert q.duties.amount == sum(line.duty.amount for line in q.lines)
        assert q.taxes.amount == sum(line.tax.amount for line in q.lines)
        assert [line.duty_rate for line in q.lines] == [
            Decimal("0.12"),
            Decimal("0.03"),
            Decimal("0.035"),
        ]

    def test_shipping_allocation_is_exact(self) -> None:
        assert allocate(100, [1, 1, 1]) == [34, 33, 33]
        assert allocate(999, [10001, 10001, 3333]) == [428, 428, 143]
        assert allocate(500, [0, 0]) == [500, 0]


class TestIncoterms:
    def test_ddp_seller_pays_at_checkout_dap_buyer_pays_on_delivery(self) -> None:
        ddp = quote("GB", item(20000, "GBP"), shipping=500, incoterm="DDP")
        dap = quote("GB", item(20000, "GBP"), shipping=500, incoterm="DAP")
        assert ddp.total == dap.total == ddp.duties + ddp.taxes
        assert (ddp.payer, ddp.due_at_checkout) == ("seller", ddp.total)
        assert (dap.payer, dap.due_at_checkout) == ("buyer", Money.zero("GBP"))

    def test_a_sale_time_regime_is_collected_at_checkout_even_under_dap(self) -> None:
        q = quote("DE", item(5000), incoterm="DAP")
        # VAT 19% of 5000 and the EUR 3 flat duty.
        assert (q.regime, q.payer, q.due_at_checkout.amount) == (Regime.IOSS, "seller", 1250)


class TestRefusals:
    @pytest.mark.parametrize(
        ("country", "items", "field"),
        [
            ("BR", [item(100)], "destination_country"),
            ("DE", [item(100, hs_code="990000")], "items[0].hs_code"),
            ("DE", [item(100), item(100, "USD")], "items[1].unit_price.currency"),
            ("DE", [item(100, "CLP")], "currency"),
        ],
    )
    def test_refusals_name_the_field(
        self, country: str, items: list[CustomsItem], field: str
    ) -> None:
        request = LandedCostInput(
            destination_country=country,
            currency=items[0].unit_price.currency,
            incoterm="DDP",
            items=items,
        )
        with pytest.raises(CustomsRuleError) as refused:
            quote_landed_cost(request, "lcq_x")
        assert refused.value.field == field


class TestDatedRules:
    """Each rule change: an order the day before and on the day it takes effect."""

    def test_eu_flat_duty_per_tariff_line_from_2026_07_01(self) -> None:
        lines = (
            item(3000, sku="SILK", hs_code="620640"),
            item(2000, sku="WOOL", hs_code="620620", quantity=2),
            item(1000, sku="WOOL-2", hs_code="620620"),
        )
        before = quote("FR", *lines, shipping=500, on=date(2026, 6, 30))
        after = quote("FR", *lines, shipping=500, on=date(2026, 7, 1))
        # VAT 20% of 8000 + 500 either way; from 2026-07-01 EUR 3 for each of the two
        # subheadings, on the first line of each.
        assert amounts(before) == (Regime.IOSS, 0, 1700)
        assert amounts(after) == (Regime.IOSS, 600, 1700)
        assert [line.duty.amount for line in after.lines] == [300, 300, 0]
        assert after.due_at_checkout.amount == 2300
        assert (before.rule_in_force_from, after.rule_in_force_from) == (
            date(2021, 7, 1),
            date(2026, 7, 1),
        )

    def test_eu_flat_duty_is_converted_into_the_sale_currency(self) -> None:
        q = quote("DE", item(5000, "USD"), on=date(2026, 7, 1))
        # EUR 3 at 1.1741 USD per EUR = USD 3.5223, rounded half up to 352 cents.
        assert q.duties == Money(amount=352, currency="USD")

    def test_eu_above_150_euros_keeps_the_tariff_rate_after_the_change(self) -> None:
        q = quote("DE", item(15001), shipping=1000, on=date(2026, 7, 1))
        assert amounts(q) == (Regime.STANDARD, 1920, 3405)

    def test_us_de_minimis_suspended_for_every_origin_from_2025_08_29(self) -> None:
        goods = item(50000, "USD", origin="DE")
        before = quote("US", goods, on=date(2025, 8, 28))
        after = quote("US", goods, on=date(2025, 8, 29))
        assert (amounts(before), before.entry_type) == ((Regime.DE_MINIMIS, 0, 0), "de_minimis")
        # 16.5% of USD 500.
        assert (amounts(after), after.entry_type) == ((Regime.STANDARD, 8250, 0), "informal")

    def test_us_formal_entry_above_2500_dollars_and_postal_items(self) -> None:
        at_limit = quote("US", item(250000, "USD"), on=TODAY)
        above = quote("US", item(250001, "USD"), on=TODAY)
        postal = quote("US", item(1000, "USD"), on=TODAY, transport="postal")
        assert (at_limit.entry_type, above.entry_type) == ("informal", "formal")
        assert (postal.entry_type, postal.duties.amount) == ("postal", 165)

    def test_uk_vat_at_sale_from_2021_01_01(self) -> None:
        goods = item(10000, "GBP")
        before = quote("GB", goods, shipping=500, on=date(2020, 12, 31))
        after = quote("GB", goods, shipping=500, on=date(2021, 1, 1))
        # Before: duty relieved up to GBP 135, import VAT at the border above GBP 15.
        assert (amounts(before), before.collected_at_sale) == ((Regime.DE_MINIMIS, 0, 2100), False)
        assert (amounts(after), after.collected_at_sale) == ((Regime.UK_VAT_AT_SALE, 0, 2100), True)

    def test_uk_announced_end_of_the_135_pound_relief_is_noted_not_applied(self) -> None:
        q = quote("GB", item(13500, "GBP"), on=date(2029, 4, 1))
        assert amounts(q) == (Regime.UK_VAT_AT_SALE, 0, 2700)
        assert any("March 2029 at the latest" in note for note in q.notes)

    def test_au_gst_collected_at_sale_from_2018_07_01(self) -> None:
        goods = item(50000, "AUD")
        before = quote("AU", goods, shipping=1000, on=date(2018, 6, 30))
        after = quote("AU", goods, shipping=1000, on=date(2018, 7, 1))
        assert (amounts(before), before.collected_at_sale) == ((Regime.DE_MINIMIS, 0, 0), False)
        assert (amounts(after), after.collected_at_sale) == ((Regime.AU_GST_AT_SALE, 0, 5100), True)

    def test_ca_cusma_courier_thresholds_from_2020_07_01(self) -> None:
        goods = item(10000, "CAD", origin="CN")
        before = quote("CA", goods, ship_from="US", on=date(2020, 6, 30))
        after = quote("CA", goods, ship_from="US", on=date(2020, 7, 1))
        # Duty 18% FOB of 10000 = 1800; GST 5% of 10000 + 1800 = 590. After: duty free.
        assert amounts(before) == (Regime.STANDARD, 1800, 590)
        assert amounts(after) == (Regime.DE_MINIMIS, 0, 500)


class TestVersioning:
    def test_every_quote_records_the_version_and_the_period_it_used(self) -> None:
        q = quote("DE", item(1000), on=date(2026, 7, 1))
        rules = default_rules()
        assert (q.rules_version, q.rules_as_of) == (rules.version, rules.as_of)
        assert (q.rule_in_force_from, q.rules_date) == (date(2026, 7, 1), date(2026, 7, 1))

    def test_an_order_before_the_rules_begin_is_refused_naming_the_date(self) -> None:
        with pytest.raises(CustomsRuleError) as refused:
            quote("DE", item(1000), on=date(2021, 6, 30))
        assert refused.value.field == "sale_date"
        assert "2021-07-01" in refused.value.message

    def test_every_destination_has_periods_in_date_order(self) -> None:
        for country, periods in default_rules().destinations.items():
            starts = [period.in_force_from for period in periods]
            assert starts == sorted(starts) and len(set(starts)) == len(starts), country

    def test_no_sale_date_means_the_rules_in_force_today(self) -> None:
        request = LandedCostInput(
            destination_country="DE", currency="EUR", incoterm="DDP", items=[item(1000)]
        )
        first = datetime.now(UTC).date()
        q = quote_landed_cost(request, "lcq_today")
        assert q.rules_date is not None and first <= q.rules_date <= datetime.now(UTC).date()
        in_force = default_rules().destination("DE", q.rules_date)
        assert q.rule_in_force_from == in_force.in_force_from
