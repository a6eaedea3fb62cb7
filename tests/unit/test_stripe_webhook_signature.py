"""Stripe-Signature verification, checked against the official `stripe` package too."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from starter.stripe_signature import SignatureRefused, sign, verify

SECRET = "whsec_test_secret"
NOW = 1_790_000_000
BODY = json.dumps({"id": "evt_1", "object": "event", "type": "charge.dispute.created"}).encode()


def test_valid_signature_is_accepted_and_stripe_agrees() -> None:
    header = sign(BODY, SECRET, NOW)
    assert verify(BODY, header, SECRET, NOW + 10).timestamp == NOW
    # The official library accepts what we sign (it checks against the real clock).
    now = int(time.time())
    event = stripe.Webhook.construct_event(BODY.decode(), sign(BODY, SECRET, now), SECRET)
    assert event["id"] == "evt_1"


def test_a_header_stripe_would_send_is_verified() -> None:
    """Stripe's own test helper signs; we verify (several v1 while a secret rolls)."""
    digest = stripe.WebhookSignature._compute_signature(f"{NOW}.{BODY.decode()}", SECRET)
    header = f"t={NOW},v1={'0' * 64},v1={digest},v0=legacy"
    assert verify(BODY, header, SECRET, NOW).signature == digest


@pytest.mark.parametrize(
    ("body", "secret", "now", "why"),
    [
        (BODY.replace(b"evt_1", b"evt_2"), SECRET, NOW, "no v1 signature matches"),
        (BODY, "whsec_other", NOW, "no v1 signature matches"),
        (BODY, SECRET, NOW + 301, "301 s old; tolerance 300 s"),
        (BODY, SECRET, NOW - 301, "301 s in the future; tolerance 300 s"),
    ],
    ids=["tampered_body", "wrong_secret", "stale", "future"],
)
def test_refused_and_stripe_refuses_too(body: bytes, secret: str, now: int, why: str) -> None:
    header = sign(BODY, SECRET, NOW)
    with pytest.raises(SignatureRefused, match=why):
        verify(body, header, secret, now)


def test_stripe_refuses_what_we_refuse_for_tampering() -> None:
    header = sign(BODY, SECRET, int(time.time()))
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(BODY.decode().replace("evt_1", "evt_2"), header, SECRET)


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "header is missing"),
        ("v1=abc", "no t=<timestamp>"),
        (f"t={NOW}", "no v1 signature"),
        ("t=soon,v1=abc", "not a unix timestamp"),
    ],
)
def test_malformed_headers_name_the_problem(header: str | None, why: str) -> None:
    with pytest.raises(SignatureRefused, match=why):
        verify(BODY, header, SECRET, NOW)


@pytest.mark.parametrize(
    "timestamp",
    ["9" * 5000, str(10**400), str(10**30), "0" * 40 + "1"],
    ids=["5000_digits", "10^400", "10^30", "zero_padded"],
)
def test_absurd_timestamps_are_refused_naming_t(timestamp: str) -> None:
    """Probe: `t` with thousands of digits, or too large for a float, answered 500."""
    header = f"t={timestamp},v1={'a' * 64}"
    with pytest.raises(SignatureRefused, match="t="):
        verify(BODY, header, SECRET, NOW)


def test_a_correctly_signed_huge_timestamp_is_refused() -> None:
    header = sign(BODY, SECRET, 10**400)
    with pytest.raises(SignatureRefused, match="t="):
        verify(BODY, header, SECRET, NOW)
