"""`crossdock sandbox` builds its config from settings in one place."""

from __future__ import annotations

from pathlib import Path

from crossdock.config import Settings
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.faults import load_profile
from crossdock.secrets import easypost_webhook_secret, stripe_webhook_secret


def test_the_served_sandbox_keeps_its_records_in_the_state_dir_and_signs_for_intake(
    tmp_path: Path,
) -> None:
    settings = Settings(state_dir=tmp_path, console_port=9123, partner_timeout_seconds=20)
    config = SandboxConfig.from_settings(settings, load_profile("flaky"))

    assert config.database == tmp_path / "sandbox.db"
    assert config.carrier_webhook_url == "http://127.0.0.1:9123/webhooks/easypost"
    assert config.disputes.webhook_url == "http://127.0.0.1:9123/webhooks/stripe"
    # The secrets intake verifies with, from the same state dir.
    assert config.carrier_webhook_secret == easypost_webhook_secret(settings)
    assert config.disputes.webhook_secret == stripe_webhook_secret(settings)
    # A fault timeout always outlasts the client's, or it would never look like one.
    assert config.faults.hang_seconds > 20
