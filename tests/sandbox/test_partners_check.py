"""`crossdock partners check` against the sandbox: every operation works, and with live
keys nothing that moves money is called."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.config import Settings
from crossdock.partners.check import SKIPPED, check_partners


def sandbox_settings(url: str, **overrides: str) -> Settings:
    return Settings(
        payments_base_url=f"{url}/stripe",
        carrier_base_url=f"{url}/easypost",
        amazon_base_url=f"{url}/amazon",
        ebay_base_url=f"{url}/ebay",
        **overrides,  # type: ignore[arg-type]
    )


async def test_every_operation_works_against_the_sandbox(live_sandbox: str) -> None:
    results = await check_partners(sandbox_settings(live_sandbox))

    assert [(r.partner, r.operation) for r in results if not r.ok] == []
    assert {r.partner for r in results} == {"stripe", "easypost", "amazon", "ebay"}
    assert SKIPPED not in {r.detail for r in results}


async def test_live_keys_call_nothing_that_moves_money(live_sandbox: str) -> None:
    live = sandbox_settings(
        live_sandbox, payments_api_key="sk_live_partners", carrier_api_key="EZAK_partners"
    )

    results = {r.operation: r for r in await check_partners(live)}

    for operation in (
        "PostPaymentIntents + Cancel (test mode)",
        "PostFiles (dispute_evidence, test mode)",
        "CreateShipment + Buy + Retrieve + Refund (test mode)",
    ):
        assert (results[operation].ok, results[operation].detail) == (True, SKIPPED)
    # the sandbox takes test keys only: the read-only probe shows the refusal
    assert not results["GetPaymentIntentsIntent"].ok


def test_the_command_prints_every_operation_green(
    live_sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, path in (
        ("PAYMENTS", "stripe"),
        ("CARRIER", "easypost"),
        ("AMAZON", "amazon"),
        ("EBAY", "ebay"),
    ):
        monkeypatch.setenv(f"CROSSDOCK_{name}_BASE_URL", f"{live_sandbox}/{path}")

    result = CliRunner().invoke(app, ["partners", "check"])

    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output and result.output.count(" ok ") >= 13
