"""Shared webhook secrets: generated per install, never a published default."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from crossdock.config import Settings
from crossdock.secrets import (
    UnsafeSecret,
    easypost_webhook_secret,
    shared_secret,
    storefront_signing_secret,
)


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(state_dir=tmp_path, _env_file=None, **values)  # type: ignore[arg-type]


def test_unset_secrets_are_generated_once_per_install_and_differ(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    storefront = storefront_signing_secret(settings)
    carrier = easypost_webhook_secret(settings)
    assert len(storefront) >= 32 and storefront != carrier
    # Another process of the same install (same state dir) reads the same secret...
    assert storefront_signing_secret(_settings(tmp_path)) == storefront
    assert (tmp_path / "keys" / "storefront-signing-secret").stat().st_mode & 0o077 == 0
    # ...another install draws its own.
    assert storefront_signing_secret(_settings(tmp_path / "other")) != storefront


def test_a_configured_secret_wins(tmp_path: Path) -> None:
    settings = _settings(tmp_path, easypost_webhook_secret=SecretStr("s3cr3t-of-this-deployment"))
    assert easypost_webhook_secret(settings) == "s3cr3t-of-this-deployment"
    assert not (tmp_path / "keys" / "easypost-webhook-secret").exists()


@pytest.mark.parametrize("value", ["whsec_crossdock_sandbox", "short"])
def test_published_or_short_secrets_are_refused_outside_the_demo(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(UnsafeSecret, match="CROSSDOCK_STRIPE_WEBHOOK_SECRET") as refused:
        shared_secret(_settings(tmp_path), "stripe-webhook-secret", value)
    assert value not in str(refused.value)  # the message names the setting, not the value
    demo = _settings(tmp_path, demo_profile=True)
    assert shared_secret(demo, "stripe-webhook-secret", value) == value


def test_the_stripe_secret_no_longer_defaults_to_a_published_value(tmp_path: Path) -> None:
    from crossdock.secrets import PUBLISHED, stripe_webhook_secret

    generated = stripe_webhook_secret(_settings(tmp_path))
    assert generated not in PUBLISHED and generated == stripe_webhook_secret(_settings(tmp_path))
    published = SecretStr("whsec_crossdock_sandbox")
    with pytest.raises(UnsafeSecret, match="CROSSDOCK_STRIPE_WEBHOOK_SECRET"):
        stripe_webhook_secret(_settings(tmp_path, stripe_webhook_secret=published))
    demo = _settings(tmp_path, stripe_webhook_secret=published, demo_profile=True)
    assert stripe_webhook_secret(demo) == "whsec_crossdock_sandbox"
