"""Principal claims without Temporal: grants, bound claims (update + arguments), signal
claims, verifying, rotation, and equality."""

from __future__ import annotations

from datetime import timedelta

from crossdock.identity import ClaimSigner, ClaimVerifier
from crossdock.identity.claims import argument_digest, claim_nonce
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.intake import INTAKE_PRINCIPALS
from crossdock.models.order import Channel

OLD_KEY = b"old-console-key-0123456789abcdef"
NEW_KEY = b"new-console-key-0123456789abcdef"
OPS = Principal(id="ops-7", role=Role.OPERATOR)
WORKFLOW = "order-storefront-SF10000001"
NOW = 1_800_000_000.0


DIGEST = argument_digest([{"key": "review", "action": "approve"}])


def bound(key: bytes = NEW_KEY, now: float = NOW, update: str = "decide") -> Principal:
    return ClaimSigner(key, timedelta(minutes=5)).bind(OPS, WORKFLOW, update, DIGEST, now=now)


def test_a_bound_claim_verifies_until_it_expires() -> None:
    verifier = ClaimVerifier(NEW_KEY)
    assert verifier.refusal(bound(), WORKFLOW, "decide", DIGEST, now=NOW + 299) == ""
    assert "expired 1s ago" in verifier.refusal(bound(), WORKFLOW, "decide", DIGEST, now=NOW + 301)


def test_a_bound_claim_holds_only_for_its_update_and_arguments() -> None:
    verifier = ClaimVerifier(NEW_KEY)
    other_args = argument_digest([{"key": "review", "action": "reject"}])
    assert "does not verify for 'cancel'" in verifier.refusal(
        bound(), WORKFLOW, "cancel", DIGEST, now=NOW
    )
    assert "for other arguments" in verifier.refusal(
        bound(), WORKFLOW, "decide", other_args, now=NOW
    )
    assert "does not verify" in verifier.refusal(bound(), "order-x", "decide", DIGEST, now=NOW)


def test_a_grant_is_not_accepted_by_workers_but_binds_in_a_client() -> None:
    grant = ClaimSigner(NEW_KEY).sign(OPS, WORKFLOW, now=NOW)
    verifier = ClaimVerifier(NEW_KEY)
    assert "not bound to an update" in verifier.refusal(grant, WORKFLOW, "decide", DIGEST, now=NOW)
    assert verifier.grant_refusal(grant, WORKFLOW, now=NOW) == ""
    assert "does not verify" in verifier.grant_refusal(grant, "order-x", now=NOW)
    assert "expired" in verifier.grant_refusal(grant, WORKFLOW, now=NOW + 600)


def test_claims_from_the_previous_key_verify_during_rotation() -> None:
    old = bound(OLD_KEY)
    assert ClaimVerifier(NEW_KEY, OLD_KEY).refusal(old, WORKFLOW, "decide", DIGEST, now=NOW) == ""
    assert "does not verify" in ClaimVerifier(NEW_KEY).refusal(
        old, WORKFLOW, "decide", DIGEST, now=NOW
    )


def test_an_altered_expiry_does_not_verify() -> None:
    version, expires, nonce, mac = bound().claim.split(".")
    stretched = OPS.model_copy(update={"claim": f"{version}.{int(expires) + 86400}.{nonce}.{mac}"})
    refusal = ClaimVerifier(NEW_KEY).refusal(stretched, WORKFLOW, "decide", DIGEST, now=NOW)
    assert "does not verify" in refusal


def test_a_signal_claim_holds_for_its_target_signal_and_arguments() -> None:
    claim = ClaimSigner(NEW_KEY).signal_claim(WORKFLOW, "link_case", DIGEST, "n1")
    verifier = ClaimVerifier(NEW_KEY)
    assert verifier.signal_refusal(claim, WORKFLOW, "link_case", DIGEST) == ""
    assert claim_nonce(claim) == "n1"
    for target, signal, digest in [
        ("order-x", "link_case", DIGEST),
        (WORKFLOW, "settle_refund", DIGEST),
        (WORKFLOW, "link_case", argument_digest([{}])),
    ]:
        assert "does not verify" in verifier.signal_refusal(claim, target, signal, digest)
    assert "carries no claim" in verifier.signal_refusal("", WORKFLOW, "link_case", DIGEST)


def test_the_digest_leaves_the_claim_out_and_nothing_else() -> None:
    plain = Decision(key="review", action=DecisionAction.APPROVE, by=OPS)
    signed = plain.model_copy(update={"by": bound()})
    assert argument_digest([plain]) == argument_digest([signed])
    changed = plain.model_copy(update={"reason": "another"})
    assert argument_digest([plain]) != argument_digest([changed])


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
