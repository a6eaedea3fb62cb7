"""Verifying Stripe's `Stripe-Signature` webhook header, as Stripe documents it.

The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`; each `v1` is
HMAC-SHA256 over `"{t}.{raw body}"` keyed with the endpoint secret (several appear while a
secret is being rolled). The timestamp must lie within the tolerance of now, both ways:
an old one is a replay, a future one a forgery or a skewed clock. Written here rather than
taken from the `stripe` package, which is only a development dependency; tests check the
two agree.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

TOLERANCE_SECONDS = 300


class SignatureRefused(Exception):
    """Why a webhook's signature was not accepted (the message names it)."""


@dataclass(frozen=True)
class VerifiedSignature:
    timestamp: int
    # The v1 signature that matched: with the timestamp, what a replay would reuse.
    signature: str


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe would send for `payload` at `timestamp`."""
    return f"t={timestamp},v1={_digest(payload, secret, timestamp)}"


def _digest(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            if not value.isdigit():
                raise SignatureRefused(f"Stripe-Signature t={value!r} is not a unix timestamp")
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None:
        raise SignatureRefused("Stripe-Signature has no t=<timestamp>")
    if not candidates:
        raise SignatureRefused("Stripe-Signature has no v1 signature")
    return timestamp, candidates


def verify(
    payload: bytes, header: str | None, secret: str, now: float, tolerance: int = TOLERANCE_SECONDS
) -> VerifiedSignature:
    """Check `header` against the raw `payload`; return the matching signature.

    Raises:
        SignatureRefused: Header missing or malformed, no v1 matches (forged, tampered
            body or wrong secret), or the timestamp is more than `tolerance` seconds
            before (stale) or after (future) `now`.
    """
    if not header:
        raise SignatureRefused("Stripe-Signature header is missing")
    timestamp, candidates = _parse(header)
    expected = _digest(payload, secret, timestamp)
    # compare_digest on every candidate: timing reveals nothing about the right one.
    matched = [c for c in candidates if hmac.compare_digest(c, expected)]
    if not matched:
        raise SignatureRefused(
            "no v1 signature matches the payload (body changed, or signed with another secret)"
        )
    age = now - timestamp
    if age > tolerance:
        raise SignatureRefused(
            f"timestamp {timestamp} is {int(age)} s old; tolerance {tolerance} s"
        )
    if -age > tolerance:
        raise SignatureRefused(
            f"timestamp {timestamp} is {int(-age)} s in the future; tolerance {tolerance} s"
        )
    return VerifiedSignature(timestamp=timestamp, signature=matched[0])
