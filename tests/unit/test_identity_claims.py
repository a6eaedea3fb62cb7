"""Principal claims without Temporal: signing, verifying, rotation, and equality."""

from __future__ import annotations

from datetime import timedelta

from crossdock.identity import ClaimSigner, ClaimVerifier
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.intake import INTAKE_PRINCIPALS
from crossdock.models.order import Channel

OLD_KEY = b"old-console-key-0123456789abcdef"
NEW_KEY = b"new-console-key-0123456789abcdef"
OPS = Principal(id="ops-7", role=Role.OPERATOR)
WORKFLOW = "order-storefront-SF10000001"
NOW = 1_800_000_000.0


def test_signed_claim_verifies_until_it_expires() -> None:
    signed = ClaimSigner(NEW_KEY, timedelta(minutes=5)).sign(OPS, WORKFLOW, now=NOW)
    verifier = ClaimVerifier(NEW_KEY)
    assert verifier.refusal(signed, WORKFLOW, now=NOW + 299) == ""
    assert "expired 1s ago" in verifier.refusal(signed, WORKFLOW, now=NOW + 301)


def test_claims_from_the_previous_key_verify_during_rotation() -> None:
    signed = ClaimSigner(OLD_KEY).sign(OPS, WORKFLOW, now=NOW)
    assert ClaimVerifier(NEW_KEY, OLD_KEY).refusal(signed, WORKFLOW, now=NOW) == ""
    assert "does not verify" in ClaimVerifier(NEW_KEY).refusal(signed, WORKFLOW, now=NOW)


def test_an_altered_expiry_does_not_verify() -> None:
    signed = ClaimSigner(NEW_KEY).sign(OPS, WORKFLOW, now=NOW)
    version, expires, mac = signed.claim.split(".")
    stretched = signed.model_copy(update={"claim": f"{version}.{int(expires) + 86400}.{mac}"})
    assert "does not verify" in ClaimVerifier(NEW_KEY).refusal(stretched, WORKFLOW, now=NOW)


def test_signed_principal_equals_the_account_it_stands_for() -> None:
    # Workflow code compares principals (e.g. "was this cancel the buyer's, through
    # intake?"); the claim is transport and must not change the answer.
    intake = INTAKE_PRINCIPALS[Channel.EBAY]
    signed = ClaimSigner(NEW_KEY).sign(intake, WORKFLOW)
    assert signed == intake and hash(signed) == hash(intake)
    assert signed in INTAKE_PRINCIPALS.values()
    assert signed != Principal(id=intake.id, role=Role.ADMIN)
    decision = Decision(key="review", action=DecisionAction.APPROVE, by=signed)
    assert decision == decision.model_copy(update={"by": intake})


def test_claim_travels_through_json_and_is_hidden_from_repr() -> None:
    signed = ClaimSigner(NEW_KEY).sign(OPS, WORKFLOW)
    assert Principal.model_validate_json(signed.model_dump_json()).claim == signed.claim
    assert signed.claim not in repr(signed)
    # Histories from before claims decode, unsigned.
    assert Principal.model_validate({"id": "ops-7", "role": "operator"}).claim == ""
