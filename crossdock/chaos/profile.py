"""The clocks of a chaos run: every lifecycle compressed to seconds, so hundreds of
orders go through payment, customs, shipping, delivery, returns and disputes (and their
reminders, escalations and deadline policies) within minutes. Any of them set in the
environment (`CROSSDOCK_*`) wins, as with the demo profile (crossdock/runner.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crossdock.config import Settings
from crossdock.models.returns import ReturnTimers

CHAOS_TIMERS: dict[str, Any] = {
    # Delivered orders stay open long enough for the demo buyers to return or dispute.
    "return_window_seconds": 10.0,
    "poll_interval_seconds": 1.0,
    "tracking_step_seconds": 0.5,
    "customs_hold_rate": 0.1,
    "customs_hold_seconds": 3.0,
    "customs_poll_seconds": 1.0,
    "tracker_exception_rates": {
        "delayed": 0.05,
        "lost": 0.03,
        "return_to_sender": 0.03,
        "address_problem": 0.03,
    },
    "review_remind_seconds": 4.0,
    "review_escalate_seconds": 8.0,
    "review_expire_seconds": 20.0,
    "lost_after_seconds": 10.0,
    "exception_remind_seconds": 4.0,
    "exception_escalate_seconds": 8.0,
    "exception_expire_seconds": 20.0,
    "return_timers": ReturnTimers(
        decision_remind_seconds=4,
        decision_escalate_seconds=8,
        decision_expire_seconds=20,
        ship_back_seconds=20,
        transit_attention_seconds=20,
        inspection_remind_seconds=10,
        offer_expire_seconds=10,
        refund_check_seconds=1,
        refund_checks=10,
    ),
    "delivery_grace_seconds": 5.0,
    "ship_by_warning_seconds": 5.0,
    "warehouse_restock_seconds": 3.0,
    "stock_poll_seconds": 1.0,
    "backorder_wait_seconds": 15.0,
    "max_parcel_grams": 2000,
    # Disputes due 25 s after opening: reminded, escalated, decided by policy 5 s before.
    "dispute_due_seconds": 25.0,
    "dispute_remind_before_seconds": 20.0,
    "dispute_escalate_before_seconds": 12.0,
    "dispute_decide_margin_seconds": 5.0,
    "dispute_review_seconds": 3.0,
    "dispute_reopen_window_seconds": 5.0,
    # A dispute awaiting a verdict reads it from the provider every 10 s.
    "dispute_recheck_after_seconds": 10.0,
    # A partner call that hangs (the `timeout` fault) is given up after 3 s, not 10.
    "partner_timeout_seconds": 3.0,
    # Demo orders promise delivery within two minutes (ship by 40 s after checkout).
    "demo_deliver_within_seconds": 120.0,
    "demo_feed": False,
}


def sandbox_urls(sandbox_url: str) -> dict[str, str]:
    """Every partner base URL of `Settings`, pointed at the sandbox at `sandbox_url`."""
    default = f"http://127.0.0.1:{Settings.model_fields['sandbox_port'].default}"
    return {
        name: str(field.default).replace(default, sandbox_url)
        for name, field in Settings.model_fields.items()
        if name.endswith("_base_url")
    }


def chaos_settings(state_dir: Path, **fixed: Any) -> Settings:
    """Settings of a chaos run: the environment's, with the chaos clocks where the
    environment sets none, the state in `state_dir`, and `fixed` over everything."""
    timers = {
        name: value
        for name, value in CHAOS_TIMERS.items()
        if f"CROSSDOCK_{name.upper()}" not in os.environ
    }
    settings = Settings(**{**timers, **fixed, "state_dir": state_dir})
    return settings.model_copy(update=sandbox_urls(settings.sandbox_url))
