"""`crossdock report` on the seeded read model: the tables and the workbook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.config import get_settings
from crossdock.store import Database, upgrade
from tests.store.readmodel_seed import seed

runner = CliRunner()


@pytest.fixture
def seeded_cli(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    monkeypatch.setenv("CROSSDOCK_DATABASE_URL", database_url)
    monkeypatch.setenv("CROSSDOCK_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    db = Database(database_url)
    upgrade(db)
    seed(db)
    db.dispose()
    yield
    get_settings.cache_clear()


def test_report_prints_health_sales_and_writes_the_workbook(
    seeded_cli: None, tmp_path: Path
) -> None:
    book = tmp_path / "report.xlsx"
    result = runner.invoke(
        app, ["report", "--period", "30d", "--until", "2026-12-01", "--excel", str(book)]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Late Shipment Rate (30 days)" in out and "1/2" in out and "breach" in out
    assert "150.00 EUR" in out and "75.00 EUR" in out  # A1 + A2, their average
    assert "4500 JPY" in out
    assert "cancelled by buyer / by us" in out and "1 / 1" in out
    assert load_workbook(book)["Orders (UTC)"].max_row == 7


def test_report_of_one_marketplace_and_a_bad_period(seeded_cli: None) -> None:
    result = runner.invoke(app, ["report", "--marketplace", "ebay", "--until", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert "amazon" not in result.output.lower()
    assert "25.00 USD" in result.output
    refused = runner.invoke(app, ["report", "--period", "a-month"])
    assert refused.exit_code == 2
    assert "period 'a-month'" in refused.output
