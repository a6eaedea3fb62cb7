"""Shared secrets with a partner (webhook signing secrets, storefront HMAC keys): one per
install, never a value published in this repository.

In the demo profile (`make run`, the tests, the compose demo) the sandbox plays the
partner, so an unset secret is generated once into `{state_dir}/keys/{name}` (mode 0600,
crossdock.keys.load_or_create) and every process of the install, the sandbox included,
reads the same file. Outside it (`CROSSDOCK_PROFILE=production`) the partner issues the
secret: an unset one, or one equal to a value published here (an old default, an example
in the docs), is refused at start with the setting to fill in.

    secret = install_secret(settings, "storefront-secret", settings.storefront_secret,
                            setting="CROSSDOCK_STOREFRONT_SECRET")
"""

from __future__ import annotations

import secrets
from collections.abc import Collection

from pydantic import SecretStr

from crossdock.config import Profile, Settings
from crossdock.keys import load_or_create

# Values that appeared in this repository as defaults or examples: anyone can read them.
PUBLISHED = frozenset(
    {
        "whsec_crossdock_sandbox",
        "whsec_crossdock_test",
        "changeme",
        "secret",
    }
)
STRIPE_WEBHOOK_SECRET = "stripe-webhook-secret"
SECRET_BYTES = 32


class SecretRefused(ValueError):
    """A secret this profile does not accept; the message names the setting to set."""


def install_secret(
    settings: Settings,
    name: str,
    configured: SecretStr | str | None,
    *,
    setting: str,
    prefix: str = "",
    published: Collection[str] = PUBLISHED,
) -> str:
    """The secret `name`: configured, or in the demo profile generated once per install.

    Args:
        settings: Gives the profile and the state dir.
        name: The file under `{state_dir}/keys/` a generated secret lives in.
        configured: The setting's value (None or "" when unset).
        setting: The environment variable to name in a refusal.
        prefix: Put in front of a generated secret (Stripe's look `whsec_`).
        published: Values refused outside the demo profile.

    Raises:
        SecretRefused: Outside the demo profile, unset or published.
    """
    text = configured.get_secret_value() if isinstance(configured, SecretStr) else configured
    demo = settings.profile is Profile.DEMO
    if text:
        if text in published and not demo:
            raise SecretRefused(
                f"{setting} holds a value published in the Crossdock repository; set the "
                f"secret your partner issued for this deployment (profile {settings.profile})"
            )
        return text
    if not demo:
        raise SecretRefused(
            f"{setting} is not set: outside the demo profile the partner's secret must be "
            "configured (the sandbox's generated one is for demos)"
        )
    path = settings.state_dir / "keys" / name
    return load_or_create(path, lambda: prefix + secrets.token_urlsafe(SECRET_BYTES))


def stripe_webhook_secret(settings: Settings) -> str:
    """The signing secret of the Stripe webhook endpoint (intake checks, sandbox signs)."""
    return install_secret(
        settings,
        STRIPE_WEBHOOK_SECRET,
        settings.stripe_webhook_secret,
        setting="CROSSDOCK_STRIPE_WEBHOOK_SECRET",
        prefix="whsec_",
    )
