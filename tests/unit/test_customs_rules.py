"""The duty and tax rules, computed by hand: thresholds, regimes, FX, rounding, incoterms."""

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
) -> LandedCostQuote:
    currency = items[0].unit_price.currency
    request = LandedCostInput(
        destination_country=country,
        currency=currency,
        incoterm=incoterm,
        shipping=Money(amount=shipping, currency=currency),
        items=list(items),
    )
    return quote_landed_cost(request, "lcq_test")


def amounts(q: LandedCostQuote) -> tuple[Regime, int, int]:
    return q.regime, q.duties.amount, q.taxes.amount


class TestEuIoss:
    def test_at_150_euros_vat_is_collected_at_sale_and_no_duty(self) -> None:
        q = quote("DE", item(7500, quantity=2), shipping=1000)
        # VAT 19% on goods + shipping: 0.19 * 16000.
        assert amounts(q) == (Regime.IOSS, 0, 3040)
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
            rule = rules.destination(country)
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
    def test_40_dollars_is_duty_and_tax_free(self) -> None:
        assert quote("CA", item(4000, "CAD", origin="CN")).regime is Regime.DE_MINIMIS
        assert quote("CA", item(4000, "CAD", origin="CN")).total.amount == 0

    def test_cusma_goods_up_to_150_dollars_pay_gst_but_no_duty(self) -> None:
        q = quote("CA", item(15000, "CAD", origin="US"), shipping=1000)
        assert amounts(q) == (Regime.DE_MINIMIS, 0, 800)  # 5% GST of 16000

    def test_non_cusma_goods_above_40_dollars_pay_duty(self) -> None:
        q = quote("CA", item(15000, "CAD", origin="CN"), shipping=1000)
        # Duty 18% FOB of 15000 = 2700; GST 5% of 15000 + 1000 + 2700 = 935.
        assert amounts(q) == (Regime.STANDARD, 2700, 935)

    def test_cusma_goods_above_150_dollars_pay_duty(self) -> None:
        assert quote("CA", item(15001, "CAD", origin="MX")).regime is Regime.STANDARD


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
        assert (q.regime, q.payer, q.due_at_checkout.amount) == (Regime.IOSS, "seller", 950)


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
