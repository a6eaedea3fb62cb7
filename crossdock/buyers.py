"""Pseudonymous buyer keys: who a buyer is across orders, without storing who they are.

A buyer key is the HMAC-SHA256 of the channel and the buyer's normalised e-mail (their
name when the channel gives no e-mail) under a secret key (`crossdock.keys.buyer_key`).
The same buyer on the same channel always gets the same key; the key reveals neither the
e-mail nor the name, and without the secret nobody can test a guessed e-mail against it.
Channels are kept apart because marketplaces mask buyers' e-mails per seller or order.
"""

from __future__ import annotations

import hashlib
import hmac

from crossdock.models.order import Buyer, Channel

__all__ = ["buyer_identity", "buyer_key"]

MIN_SECRET_BYTES = 16


def buyer_identity(buyer: Buyer) -> str:
    """What identifies the buyer, normalised: `email:` + the lower-cased e-mail, else
    `name:` + the case-folded name with its whitespace collapsed."""
    email = buyer.email.strip().lower()
    if email:
        return f"email:{email}"
    return "name:" + " ".join(buyer.name.casefold().split())


def buyer_key(secret: bytes, channel: Channel, buyer: Buyer) -> str:
    """The buyer's pseudonymous key on `channel`: 64 hex characters.

    Raises:
        ValueError: `secret` is shorter than 16 bytes.
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"the buyer key secret is {len(secret)} bytes; use at least {MIN_SECRET_BYTES}"
        )
    # A unit separator between the parts: no channel/identity pair can spell another.
    message = f"{channel.value}\x1f{buyer_identity(buyer)}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
