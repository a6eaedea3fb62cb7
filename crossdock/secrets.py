"""Secrets shared with a partner: webhook signing secrets, the storefront's checkout key.

A webhook secret is known to two sides (the partner that signs, intake that verifies),
so it must be the same in both processes and must never be one anybody can read in the
repository. `shared_secret` gives, in order:

1. the configured value (`CROSSDOCK_<NAME>`), refused when it is a value published in
   this repository or too short, unless the process runs the demo profile;
2. otherwise a random secret generated once into `{state_dir}/keys/{name}` (mode 0600),
   which every process on the machine (`make run`: sandbox, intake, worker) then reads.

Past one machine, configure the partner's real secret from a secret store.
"""

from __future__ import annotations

import secrets

from pydantic import SecretStr

from crossdock.config import Settings
from crossdock.keys import KEY_BYTES, load_or_create

# Values that have appeared in this repository's defaults, docs or tests: anyone can sign
# with them, so outside the demo profile they are refused.
PUBLISHED = frozenset(
    {
        "whsec_crossdock_sandbox",
        "crossdock_sandbox",
        "storefront_crossdock_sandbox",
        "easypost_crossdock_sandbox",
    }
)
MIN_LENGTH = 16


class UnsafeSecret(ValueError):
    """A configured secret that must not be used (published, or too short)."""


def shared_secret(settings: Settings, name: str, configured: SecretStr | str | None) -> str:
    """The secret `name` (e.g. "storefront-signing-secret"): configured, or generated.

    Raises:
        UnsafeSecret: the configured value is published or shorter than 16 characters,
            outside the demo profile; the message names the setting, never the value.
    """
    if configured is not None:
        text = configured.get_secret_value() if isinstance(configured, SecretStr) else configured
        check_secret(settings, name, text)
        return text
    return load_or_create(
        settings.state_dir / "keys" / name, lambda: secrets.token_urlsafe(KEY_BYTES)
    )


def check_secret(settings: Settings, name: str, text: str) -> None:
    """Refuse a published or short secret unless the demo profile runs."""
    if settings.demo_profile:
        return
    setting = "CROSSDOCK_" + name.upper().replace("-", "_")
    if text in PUBLISHED:
        raise UnsafeSecret(
            f"{setting} is a value published in the Crossdock repository; anyone could sign "
            "with it. Unset it (a random one is generated per install) or set your own."
        )
    if len(text) < MIN_LENGTH:
        raise UnsafeSecret(
            f"{setting} is {len(text)} characters; use at least {MIN_LENGTH} random ones"
        )


def storefront_signing_secret(settings: Settings) -> str:
    """The key the storefront signs checkouts with (`Crossdock-Storefront-Signature`)."""
    return shared_secret(settings, "storefront-signing-secret", settings.storefront_signing_secret)


def easypost_webhook_secret(settings: Settings) -> str:
    """The EasyPost webhook secret (`X-Hmac-Signature`)."""
    return shared_secret(settings, "easypost-webhook-secret", settings.easypost_webhook_secret)


def inbound_mail_secret(settings: Settings) -> str:
    """The password of the inbound mail webhook's Basic credentials (user "inbound"), put
    in the Inbound Parse URL; also keys the pseudonyms of unthreaded senders."""
    return shared_secret(settings, "inbound-mail-secret", settings.inbound_mail_secret)


def stripe_webhook_secret(settings: Settings) -> str:
    """The Stripe webhook endpoint's signing secret (`Stripe-Signature`): the sandbox
    signs with it, intake verifies. It used to default to a value in this repository."""
    return shared_secret(settings, "stripe-webhook-secret", settings.stripe_webhook_secret)


def sandbox_secrets(settings: Settings) -> dict[str, str]:
    """The `SandboxConfig` fields that make the sandbox sign as its partners do, with the
    secrets intake verifies against (same install, same state dir)."""
    return {
        "storefront_signing_secret": storefront_signing_secret(settings),
        "carrier_webhook_secret": easypost_webhook_secret(settings),
    }
