"""Requests to intake signed as the storefront and EasyPost sign them, for tests."""

from __future__ import annotations

import json
import time

from crossdock.config import Settings
from crossdock.models.order import Order
from crossdock.sandbox import storefront
from crossdock.sandbox.easypost import shapes as easypost_shapes
from crossdock.secrets import easypost_webhook_secret, storefront_signing_secret


def signed_checkout(
    settings: Settings, order: Order, secret: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """A checkout body and headers signed with the install's storefront secret (or
    `secret`), as the storefront sends it.

    Signed a minute ago (well within the tolerance): the storefront signs with the time
    it sends, so a test's own post of an order is never the very signature the storefront
    sent in the same second, which intake would refuse as a replay.
    """
    body = json.dumps(order.model_dump(mode="json")).encode()
    key = secret or storefront_signing_secret(settings)
    signed = storefront.sign(body, key, int(time.time()) - 60)
    return body, {"Content-Type": "application/json"} | signed


def signed_event(
    settings: Settings, event: dict[str, object], secret: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """An EasyPost Event body and headers signed with the install's webhook secret."""
    body = json.dumps(event).encode()
    key = secret or easypost_webhook_secret(settings)
    return body, {"Content-Type": "application/json"} | easypost_shapes.sign(body, key)
