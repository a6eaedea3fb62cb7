"""A small chaos run (issue 17): orders from every channel, with returns, disputes and
operator decisions, through the embedded stack (every part a child process) while the
sandbox injects faults of every kind from the shipped `flaky` profile, the worker is
SIGKILLed, and the dev server and the sandbox are each restarted on their own files.

The invariant table `crossdock chaos` prints must then show no violation: no order lost
or stuck, no workflow failed, no side effect twice, no refund over what was paid, and
the partners' ledgers and the workflows agree on every capture, refund and label.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crossdock.chaos.driver import ChaosPlan, ChaosReport, run_chaos
from crossdock.chaos.invariants import by_workflow
from crossdock.chaos.profile import chaos_settings
from tests.servers import free_port

pytestmark = pytest.mark.integration

PLAN = ChaosPlan(
    orders=24,
    faults="flaky",
    # Orders arrive over ~10 s; the dev server restarts at ~3 s, the worker is killed at
    # ~5 s and the sandbox restarts at ~7 s (each after the previous part is back).
    place_every_seconds=0.4,
    kill_worker_every=60.0,
    restart_temporal=True,
    restart_sandbox=True,
    look_every_seconds=1.5,
    settle_seconds=6.0,
    # Without the known bug below the cases settle within about a minute.
    drain_timeout_seconds=80.0,
    seed=17,
)


@pytest.fixture
async def report(tmp_path: Path) -> ChaosReport:
    settings = chaos_settings(
        tmp_path / "state",
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        sandbox_port=free_port(),
        console_port=free_port(),
        task_queue="chaos",
        # Disputes due in 15 s (decided by policy 4 s before), so the last ones close soon.
        dispute_due_seconds=15.0,
        dispute_remind_before_seconds=12.0,
        dispute_escalate_before_seconds=8.0,
        dispute_decide_margin_seconds=4.0,
        _env_file=None,
    )
    return await run_chaos(PLAN, settings, tmp_path / "logs")


@pytest.mark.timeout(240)
async def test_chaos_run_keeps_every_invariant(
    report: ChaosReport, record_property: Callable[[str, object], None]
) -> None:
    for name, value in report.as_json().items():
        record_property(f"chaos_{name}", value)
    # The premises: every kind of chaos happened, with traffic of every kind.
    assert sorted(e.what for e in report.events) == [
        "kill-worker",
        "restart-sandbox",
        "restart-temporal",
    ]
    for family in ("before.", "after.", "webhook."):
        assert any(kind.startswith(family) for kind in report.faults), report.faults
    assert report.row("orders started").count == report.row("orders placed").count == 24
    assert report.row("returns started").count >= 1
    assert report.row("disputes started").count >= 1
    assert report.row("captures").count >= 1
    # The outcome: every invariant kept, every case closed or parked for a person.
    assert by_workflow(report.rows) == {}
    assert report.drained
    assert report.violations == 0
