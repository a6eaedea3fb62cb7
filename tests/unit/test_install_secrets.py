"""Partner secrets (crossdock.install_secrets): no value published in the repository is
ever the default, a generated one is shared by the install's processes, and outside the
demo profile an unset or published secret is refused at start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from crossdock.config import Profile, Settings
from crossdock.install_secrets import (
    PUBLISHED,
    SecretRefused,
    install_secret,
    stripe_webhook_secret,
)


def settings(tmp_path: Path, profile: Profile = Profile.DEMO, **values: object) -> Settings:
    return Settings(state_dir=tmp_path, profile=profile, _env_file=None, **values)  # type: ignore[arg-type]


def test_the_default_stripe_secret_is_generated_per_install_not_published(
    tmp_path: Path,
) -> None:
    first = stripe_webhook_secret(settings(tmp_path / "a"))
    again = stripe_webhook_secret(settings(tmp_path / "a"))
    other = stripe_webhook_secret(settings(tmp_path / "b"))
    assert first == again != other
    assert first.startswith("whsec_") and first not in PUBLISHED
    mode = (tmp_path / "a" / "keys" / "stripe-webhook-secret").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_production_refuses_an_unset_or_published_secret(tmp_path: Path) -> None:
    with pytest.raises(SecretRefused, match="CROSSDOCK_STRIPE_WEBHOOK_SECRET is not set"):
        stripe_webhook_secret(settings(tmp_path, Profile.PRODUCTION))
    published = settings(
        tmp_path, Profile.PRODUCTION, stripe_webhook_secret=SecretStr("whsec_crossdock_sandbox")
    )
    with pytest.raises(SecretRefused, match="published in the Crossdock repository"):
        stripe_webhook_secret(published)
    assert not (tmp_path / "keys").exists()


def test_a_configured_secret_is_used_as_given(tmp_path: Path) -> None:
    own = settings(tmp_path, Profile.PRODUCTION, stripe_webhook_secret=SecretStr("whsec_real1"))
    assert stripe_webhook_secret(own) == "whsec_real1"
    # The demo accepts a published value typed on purpose (an old .env keeps working).
    old = settings(tmp_path, stripe_webhook_secret=SecretStr("whsec_crossdock_sandbox"))
    assert stripe_webhook_secret(old) == "whsec_crossdock_sandbox"


def test_any_secret_can_use_the_same_rule(tmp_path: Path) -> None:
    demo = install_secret(settings(tmp_path), "storefront", None, setting="CROSSDOCK_X")
    assert len(demo) >= 32
    with pytest.raises(SecretRefused, match="CROSSDOCK_X"):
        install_secret(
            settings(tmp_path, Profile.PRODUCTION), "storefront", "", setting="CROSSDOCK_X"
        )
