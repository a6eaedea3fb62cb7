"""Verifying Stripe's `Stripe-Signature` webhook header, as Stripe documents it.

The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`; each `v1` is
HMAC-SHA256 over `"{t}.{raw body}"` keyed with the endpoint secret (several appear while a
secret is being rolled). The timestamp must lie within the tolerance of now, both ways:
an old one is a replay, a future one a forgery or a skewed clock. Written here rather than
taken from the `stripe` package, which is only a development dependency; tests check the
two agree. The storefront signs its checkouts the same way under another header name
(`Crossdock-Storefront-Signature`), so `verify` takes the header's name for its messages.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

TOLERANCE_SECONDS = 300
STRIPE_HEADER = "Stripe-Signature"
# Unix seconds have 10 digits until the year 2286: more is no timestamp, and a number of
# thousands of digits costs time to parse (and cannot be compared with a float clock).
MAX_TIMESTAMP_DIGITS = 12


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


def _timestamp(value: str, name: str) -> int:
    if not value.isdigit() or not value.isascii() or len(value) > MAX_TIMESTAMP_DIGITS:
        shown = value if len(value) <= 20 else f"{value[:20]}... ({len(value)} characters)"
        raise SignatureRefused(f"{name} t={shown!r} is not a unix timestamp")
    return int(value)


def _parse(header: str, name: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamp = _timestamp(value, name)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None:
        raise SignatureRefused(f"{name} has no t=<timestamp>")
    if not candidates:
        raise SignatureRefused(f"{name} has no v1 signature")
    return timestamp, candidates


def verify(
    payload: bytes,
    header: str | None,
    secret: str,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
    name: str = STRIPE_HEADER,
) -> VerifiedSignature:
    """Check `header` against the raw `payload`; return the matching signature.

    Raises:
        SignatureRefused: Header missing or malformed, no v1 matches (forged, tampered
            body or wrong secret), or the timestamp is more than `tolerance` seconds
            before (stale) or after (future) `now`.
    """
    if not header:
        raise SignatureRefused(f"{name} header is missing")
    timestamp, candidates = _parse(header, name)
    expected = _digest(payload, secret, timestamp)
    # compare_digest on every candidate: timing reveals nothing about the right one.
    matched = [c for c in candidates if hmac.compare_digest(c, expected)]
    if not matched:
        raise SignatureRefused(
            "no v1 signature matches the payload (body changed, or signed with another secret)"
        )
    age = now - timestamp
    if age > tolerance:
        raise SignatureRefused(f"{name} t={timestamp} is {int(age)} s old; tolerance {tolerance} s")
    if -age > tolerance:
        raise SignatureRefused(
            f"{name} t={timestamp} is {int(-age)} s in the future; tolerance {tolerance} s"
        )
    return VerifiedSignature(timestamp=timestamp, signature=matched[0])
