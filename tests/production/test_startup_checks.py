"""Outside the demo profile a process refuses the sandbox's credentials, published or
generated secrets and a missing codec key, naming each setting and never its value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from crossdock.config import Settings
from crossdock.keys import new_codec_key
from crossdock.startup import UnsafeSettings, refuse_unsafe_settings, unsafe_settings

REPO = Path(__file__).resolve().parents[2]
STRONG = "x7Qm2vR9pL4tK8wZ3nB6"


def production_settings(**values: object) -> Settings:
    """Settings a real deployment would give: every credential and secret its own."""
    fields: dict[str, object] = {
        "amazon_access_token": "Atza|real",
        "ebay_access_token": "v^1.1#real",
        "payments_api_key": "sk_live_real",
        "carrier_api_key": "EZAK_real",
        "mail_api_key": "SG.real",
        "codec_keys": SecretStr(new_codec_key("k1")),
        "principal_key": SecretStr(STRONG),
        "buyer_key": SecretStr(STRONG + "b"),
        "stripe_webhook_secret": SecretStr("whsec_" + STRONG),
        "storefront_signing_secret": SecretStr("sf_" + STRONG),
        "easypost_webhook_secret": SecretStr("ep_" + STRONG),
    }
    return Settings(_env_file=None, **(fields | values))  # type: ignore[arg-type]


def test_a_fully_configured_deployment_starts() -> None:
    refuse_unsafe_settings(production_settings())


def test_the_defaults_are_refused_naming_every_setting() -> None:
    with pytest.raises(UnsafeSettings) as refused:
        refuse_unsafe_settings(Settings(_env_file=None))
    text = str(refused.value)
    for setting in (
        "CROSSDOCK_PAYMENTS_API_KEY",
        "CROSSDOCK_CARRIER_API_KEY",
        "CROSSDOCK_AMAZON_ACCESS_TOKEN",
        "CROSSDOCK_CODEC_KEYS",
        "CROSSDOCK_PRINCIPAL_KEY",
        "CROSSDOCK_STRIPE_WEBHOOK_SECRET",
    ):
        assert setting in text
    assert "sk_test_crossdock_sandbox" not in text  # names, never values


def test_published_and_short_secrets_are_refused_without_their_value() -> None:
    problems = unsafe_settings(
        production_settings(
            stripe_webhook_secret=SecretStr("whsec_crossdock_sandbox"),
            principal_key=SecretStr("short"),
        )
    )
    assert problems == [
        "CROSSDOCK_PRINCIPAL_KEY has fewer than 16 characters",
        "CROSSDOCK_STRIPE_WEBHOOK_SECRET is a value published in this repository",
    ]


def test_the_demo_profile_may_use_the_sandbox() -> None:
    refuse_unsafe_settings(Settings(demo_profile=True, _env_file=None))


def test_the_worker_exits_before_connecting(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CROSSDOCK_STATE_DIR": str(tmp_path)}
    # Nothing listens there: the worker must refuse before it tries.
    env["CROSSDOCK_TEMPORAL_ADDRESS"] = "127.0.0.1:9"
    done = subprocess.run(
        [sys.executable, "worker.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unsafe_settings" in done.stderr and "CROSSDOCK_CODEC_KEYS" in done.stderr
    assert not (tmp_path / "keys").exists()  # generated nothing
