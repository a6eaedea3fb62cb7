"""What a process refuses at start outside the demo profile (docs/production.md).

On one machine against the partner sandbox (`make run`, `crossdock run`, `crossdock
chaos`: the demo profile) the sandbox's credentials and secrets generated into the state
dir are fine. Anywhere else they are mistakes that only show later: a worker that sends
the sandbox's Stripe key to Stripe, a second machine that generated its own payload key
and cannot read the first one's histories, a webhook secret nobody gave the partner. So
the worker and intake check the settings before they connect, and name every setting
that is wrong, never its value.
"""

from __future__ import annotations

from pydantic import SecretStr

from crossdock.config import Settings
from crossdock.secrets import MIN_LENGTH, PUBLISHED

# The partner credentials the sandbox accepts: shipped as defaults, so known to everyone.
SANDBOX_CREDENTIALS = (
    "amazon_access_token",
    "ebay_access_token",
    "payments_api_key",
    "carrier_api_key",
    "mail_api_key",
)
# Secrets that, unset, each process generates into its own state dir: past one machine
# every process must be given the same value from a secret store.
REQUIRED_SECRETS = (
    "principal_key",
    "buyer_key",
    "stripe_webhook_secret",
    "storefront_signing_secret",
    "easypost_webhook_secret",
)


class UnsafeSettings(ValueError):
    """Settings a process outside the demo profile must not start with.

    Attributes:
        problems: one sentence per wrong setting, naming it (`CROSSDOCK_...`).
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "refusing to start outside the demo profile (CROSSDOCK_DEMO_PROFILE):\n  - "
            + "\n  - ".join(problems)
        )
        self.problems = problems


def env_name(field: str) -> str:
    return f"CROSSDOCK_{field.upper()}"


def unsafe_settings(settings: Settings) -> list[str]:
    """Every reason `settings` must not run outside the demo profile (empty: none)."""
    problems = [
        f"{env_name(field)} is the partner sandbox's credential; set the partner's own"
        for field in SANDBOX_CREDENTIALS
        if getattr(settings, field) == Settings.model_fields[field].default
    ]
    if settings.encrypt_payloads and settings.codec_keys is None:
        problems.append(
            f"{env_name('codec_keys')} is unset: every worker and console must share the "
            "payload keys (`key-id:base64`, newest first), not generate their own"
        )
    for field in ("codec_keys", *REQUIRED_SECRETS):
        value: SecretStr | None = getattr(settings, field)
        if value is None:
            if field != "codec_keys":
                problems.append(f"{env_name(field)} is unset; set it from your secret store")
            continue
        text = value.get_secret_value()
        if text in PUBLISHED:
            problems.append(f"{env_name(field)} is a value published in this repository")
        elif field != "codec_keys" and len(text) < MIN_LENGTH:
            problems.append(f"{env_name(field)} has fewer than {MIN_LENGTH} characters")
    return problems


def refuse_unsafe_settings(settings: Settings) -> None:
    """Raise `UnsafeSettings` unless the demo profile runs or the settings are safe."""
    if settings.demo_profile:
        return
    problems = unsafe_settings(settings)
    if problems:
        raise UnsafeSettings(problems)
