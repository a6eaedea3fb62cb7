"""Signed principal claims: the console vouches for who decides, workers check it.

A `Principal` is just an id and a role in an update's argument, and anyone who can
reach Temporal (`temporal workflow update ...`) could type any. So the console, having
authenticated the operator, signs a claim into the principal: an HMAC over the account
id, role, the workflow it acts on and an expiry. Workers verify it before the workflow's
own validators run (`crossdock.identity.interceptor`): a missing, forged, expired or
borrowed claim (signed for another workflow) is refused with a message saying which.

Format: `v1.{expires unix seconds}.{base64url HMAC-SHA256}`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import timedelta

from crossdock.config import Settings
from crossdock.keys import principal_key
from crossdock.models.approval import Principal

VERSION = "v1"


class ClaimSigner:
    """Signs principals for one key; what the console (and trusted services) hold."""

    def __init__(self, key: bytes, valid_for: timedelta = timedelta(minutes=5)) -> None:
        self._key = key
        self._valid_for = valid_for

    def sign(self, principal: Principal, workflow_id: str, now: float | None = None) -> Principal:
        """`principal` with a claim valid for acting on `workflow_id` for a few minutes."""
        issued = time.time() if now is None else now
        expires = int(issued + self._valid_for.total_seconds())
        mac = _mac(self._key, principal, workflow_id, expires)
        return principal.model_copy(update={"claim": f"{VERSION}.{expires}.{mac}"})


class ClaimVerifier:
    """Checks claims against one or more keys (several while the signing key rotates)."""

    def __init__(self, *keys: bytes) -> None:
        if not keys:
            raise ValueError("a ClaimVerifier needs at least one key")
        self._keys = keys

    def refusal(self, principal: Principal, workflow_id: str, now: float | None = None) -> str:
        """Why `principal`'s claim does not hold for `workflow_id`; empty when it does."""
        who = f"{principal.id} ({principal.role})"
        if not principal.claim:
            return (
                f"principal {who} is not signed: decisions must come through the Crossdock "
                "console or CLI, which authenticate the operator (a bare temporal workflow "
                "update cannot say who decided)"
            )
        version, _, rest = principal.claim.partition(".")
        expires_text, _, mac = rest.partition(".")
        if version != VERSION or not expires_text.isdigit() or not mac:
            return f"principal {who} carries a malformed claim (expected {VERSION}.expiry.mac)"
        expires = int(expires_text)
        if not any(
            hmac.compare_digest(mac, _mac(key, principal, workflow_id, expires))
            for key in self._keys
        ):
            return (
                f"principal {who} carries a claim that does not verify for {workflow_id!r}: "
                "forged, altered, or signed for another workflow"
            )
        current = time.time() if now is None else now
        if current >= expires:
            late = int(current - expires)
            return f"principal {who} carries a claim that expired {late}s ago; sign in again"
        return ""


def _mac(key: bytes, principal: Principal, workflow_id: str, expires: int) -> str:
    message = "\n".join(
        [VERSION, workflow_id, principal.id, principal.role.value, str(expires)]
    ).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signer_for(settings: Settings) -> ClaimSigner:
    """The signer for this deployment's principal key (configured or generated)."""
    return ClaimSigner(principal_key(settings), timedelta(seconds=settings.principal_claim_seconds))


def verifier_for(settings: Settings) -> ClaimVerifier:
    """The verifier for this deployment's principal key."""
    return ClaimVerifier(principal_key(settings))
