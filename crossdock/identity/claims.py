"""Signed principal claims: the console vouches for who decides, workers check it.

A `Principal` is just an id and a role in an update's argument, and anyone who can
reach Temporal (`temporal workflow update ...`) could type any. So the console, having
authenticated the operator, signs a claim into the principal, and workers verify it
before the workflow's own validators run (`crossdock.identity.interceptor`).

Two forms:

- A *grant* (`v1.{expires}.{mac}`, `ClaimSigner.sign`): "this principal may act on this
  workflow for a few minutes". Code that holds the key makes one and puts it in the
  update's argument, as it always has. Workers do not accept it on its own.
- A *bound claim* (`v2.{expires}.{nonce}.{mac}`, `ClaimSigner.bind`): the MAC also covers
  the update's name, a digest of its whole argument (the claim left out) and a random
  nonce. The `ClaimBinding` client interceptor (crossdock.identity.binding) turns every
  valid grant into one as the update leaves the process. Workers accept a bound claim
  only for that update with exactly that argument, and only once per workflow, so a
  claim read from a decoded history can neither be reused for another decision (a
  cancel with an approval's claim) nor replayed as the same one.

Signals have no principal in their argument: their claim travels in the signal's
`crossdock-claim` header (`s1.{nonce}.{mac}` over the workflow, the signal name, the
argument digest and the nonce; `signal_claim`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from crossdock.config import Settings
from crossdock.keys import principal_key
from crossdock.models.approval import Principal

GRANT = "v1"
BOUND = "v2"
SIGNAL = "s1"


class ClaimSigner:
    """Signs principals for one key; what the console (and trusted services) hold."""

    def __init__(self, key: bytes, valid_for: timedelta = timedelta(minutes=5)) -> None:
        self._key = key
        self._valid_for = valid_for

    def sign(self, principal: Principal, workflow_id: str, now: float | None = None) -> Principal:
        """`principal` with a grant to act on `workflow_id` for a few minutes; a
        `ClaimBinding` client binds it to the update it is sent with."""
        expires = self._expiry(now)
        mac = _mac(self._key, GRANT, workflow_id, principal, str(expires))
        return principal.model_copy(update={"claim": f"{GRANT}.{expires}.{mac}"})

    def bind(
        self,
        principal: Principal,
        workflow_id: str,
        update: str,
        digest: str,
        now: float | None = None,
        nonce: str | None = None,
    ) -> Principal:
        """`principal` with a claim for one `update` with the argument of `digest`."""
        expires = self._expiry(now)
        nonce = nonce or secrets.token_urlsafe(12)
        mac = _mac(self._key, BOUND, workflow_id, principal, str(expires), nonce, update, digest)
        return principal.model_copy(update={"claim": f"{BOUND}.{expires}.{nonce}.{mac}"})

    def signal_claim(self, workflow_id: str, signal: str, digest: str, nonce: str) -> str:
        """The `crossdock-claim` header value for one signal with one argument."""
        return f"{SIGNAL}.{nonce}.{_signal_mac(self._key, workflow_id, signal, digest, nonce)}"

    def _expiry(self, now: float | None) -> int:
        issued = time.time() if now is None else now
        return int(issued + self._valid_for.total_seconds())


class ClaimVerifier:
    """Checks claims against one or more keys (several while the signing key rotates)."""

    def __init__(self, *keys: bytes) -> None:
        if not keys:
            raise ValueError("a ClaimVerifier needs at least one key")
        self._keys = keys

    def grant_refusal(
        self, principal: Principal, workflow_id: str, now: float | None = None
    ) -> str:
        """Why `principal` does not carry a valid grant for `workflow_id`; empty if it does."""
        who = _who(principal)
        parts = principal.claim.split(".")
        if len(parts) != 3 or parts[0] != GRANT or not parts[1].isdigit():
            return f"principal {who} carries a malformed claim (expected {GRANT}.expiry.mac)"
        expires, mac = parts[1], parts[2]
        if not self._any_key(mac, GRANT, workflow_id, principal, expires):
            return _forged(who, workflow_id)
        return _expired(who, int(expires), now)

    def refusal(
        self,
        principal: Principal,
        workflow_id: str,
        update: str = "",
        digest: str = "",
        now: float | None = None,
    ) -> str:
        """Why `principal`'s claim does not hold for `update` on `workflow_id` with the
        argument of `digest`; empty when it does. (Once-only is the interceptor's.)"""
        who = _who(principal)
        if not principal.claim:
            return (
                f"principal {who} is not signed: decisions must come through the Crossdock "
                "console or CLI, which authenticate the operator (a bare temporal workflow "
                "update cannot say who decided)"
            )
        parts = principal.claim.split(".")
        if parts[0] == GRANT:
            # Say what is wrong with the grant first: forged and expired ones are not
            # bound by any client, and "not bound" would hide why.
            return self.grant_refusal(principal, workflow_id, now) or (
                f"principal {who} carries a grant not bound to an update: send it through a "
                "client made by crossdock.temporal.connect (its ClaimBinding binds it)"
            )
        if len(parts) != 4 or parts[0] != BOUND or not parts[1].isdigit() or not parts[2]:
            return f"principal {who} carries a malformed claim (expected {BOUND}.expiry.nonce.mac)"
        expires, nonce, mac = parts[1], parts[2], parts[3]
        if not self._any_key(mac, BOUND, workflow_id, principal, expires, nonce, update, digest):
            return (
                f"principal {who} carries a claim that does not verify for {update!r} on "
                f"{workflow_id!r}: forged, altered, signed for another workflow or update, or "
                "for other arguments"
            )
        return _expired(who, int(expires), now)

    def signal_refusal(self, claim: str, workflow_id: str, signal: str, digest: str) -> str:
        """Why a signal's header claim does not hold; empty when it does."""
        parts = claim.split(".")
        if len(parts) != 3 or parts[0] != SIGNAL or not parts[1]:
            return (
                f"signal {signal!r} carries no claim: only Crossdock's clients and "
                "workflows send it"
            )
        nonce, mac = parts[1], parts[2]
        if not any(
            hmac.compare_digest(mac, _signal_mac(key, workflow_id, signal, digest, nonce))
            for key in self._keys
        ):
            return f"signal {signal!r} carries a claim that does not verify for these arguments"
        return ""

    def _any_key(self, mac: str, *fields: Any) -> bool:
        return any(hmac.compare_digest(mac, _mac(key, *fields)) for key in self._keys)


def claim_nonce(claim: str) -> str:
    """The nonce of a bound or signal claim ("" for anything else)."""
    parts = claim.split(".")
    if parts[0] == BOUND and len(parts) == 4:
        return parts[2]
    if parts[0] == SIGNAL and len(parts) == 3:
        return parts[1]
    return ""


def claim_expiry(claim: str) -> int:
    """The expiry (unix seconds) of a bound claim; 0 when it has none."""
    parts = claim.split(".")
    return int(parts[1]) if parts[0] == BOUND and len(parts) == 4 and parts[1].isdigit() else 0


def argument_digest(args: Sequence[Any]) -> str:
    """SHA-256 over the arguments' JSON with every principal's claim left out: what a
    bound claim commits to. Both ends compute it over the same pydantic models."""
    dumped = [_without_claims(_plain(arg)) for arg in args]
    text = json.dumps(dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(arg: Any) -> Any:
    if isinstance(arg, BaseModel):
        return arg.model_dump(mode="json")
    return arg


def _without_claims(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_claims(v) for k, v in value.items() if k != "claim"}
    if isinstance(value, list):
        return [_without_claims(v) for v in value]
    return value


def _mac(key: bytes, version: str, workflow_id: str, principal: Principal, *rest: str) -> str:
    fields = [version, workflow_id, principal.id, principal.role.value, *rest]
    digest = hmac.new(key, "\n".join(fields).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _signal_mac(key: bytes, workflow_id: str, signal: str, digest: str, nonce: str) -> str:
    message = "\n".join([SIGNAL, workflow_id, signal, digest, nonce]).encode()
    raw = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _who(principal: Principal) -> str:
    return f"{principal.id} ({principal.role})"


def _forged(who: str, workflow_id: str) -> str:
    return (
        f"principal {who} carries a claim that does not verify for {workflow_id!r}: "
        "forged, altered, or signed for another workflow"
    )


def _expired(who: str, expires: int, now: float | None) -> str:
    current = time.time() if now is None else now
    if current >= expires:
        late = int(current - expires)
        return f"principal {who} carries a claim that expired {late}s ago; sign in again"
    return ""


def signer_for(settings: Settings) -> ClaimSigner:
    """The signer for this deployment's principal key (configured or generated)."""
    return ClaimSigner(principal_key(settings), timedelta(seconds=settings.principal_claim_seconds))


def verifier_for(settings: Settings) -> ClaimVerifier:
    """The verifier for this deployment's principal key."""
    return ClaimVerifier(principal_key(settings))
