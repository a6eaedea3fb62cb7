"""The client side of signed claims: bind grants to the update they travel with, and
sign the signals the workers check (crossdock.identity.claims explains the forms).

`ClaimBinding` is a Temporal client interceptor that `crossdock.temporal.connect` puts
on every client of a process holding the principal key. As an update leaves, each
argument's `by` principal that carries a valid grant for the target workflow gets a
claim bound to the update's name, a digest of the arguments and a fresh nonce; anything
else is sent untouched (and the worker refuses it). Every signal gets a
`crossdock-claim` header over its target, name and arguments.

The workflow side of signals (a return telling its order `link_case`) is signed by the
worker's outbound interceptor (crossdock.identity.interceptor), with a nonce derived
from the sending run so replay gives the same one.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowUpdateHandle,
)

from crossdock.identity.claims import ClaimSigner, ClaimVerifier, argument_digest
from crossdock.models.approval import Principal

CLAIM_HEADER = "crossdock-claim"


def claim_header(claim: str) -> Payload:
    """A header payload holding a signal claim (headers are never codec-encrypted)."""
    return Payload(metadata={"encoding": b"binary/plain"}, data=claim.encode())


def header_claim(headers: Any) -> str:
    """The signal claim in `headers`; empty when there is none."""
    payload = headers.get(CLAIM_HEADER) if headers else None
    return payload.data.decode(errors="replace") if payload is not None else ""


def bound_args(
    signer: ClaimSigner, verifier: ClaimVerifier, workflow_id: str, update: str, args: Sequence[Any]
) -> list[Any]:
    """`args` with each granted `by` principal bound to this update and these arguments."""
    digest = argument_digest(args)
    bound = []
    for arg in args:
        by = getattr(arg, "by", None)
        if isinstance(by, Principal) and not verifier.grant_refusal(by, workflow_id):
            claim = signer.bind(by, workflow_id, update, digest)
            arg = arg.model_copy(update={"by": claim})
        bound.append(arg)
    return bound


class ClaimBinding(Interceptor):
    """Bind grants to updates and sign signals, for the holder of the principal key."""

    def __init__(self, signer: ClaimSigner, verifier: ClaimVerifier) -> None:
        self._signer = signer
        self._verifier = verifier

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Binding(next, self._signer, self._verifier)


class _Binding(OutboundInterceptor):
    def __init__(
        self, next: OutboundInterceptor, signer: ClaimSigner, verifier: ClaimVerifier
    ) -> None:
        super().__init__(next)
        self._signer = signer
        self._verifier = verifier

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        input.args = bound_args(self._signer, self._verifier, input.id, input.update, input.args)
        return await super().start_workflow_update(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        digest = argument_digest(input.args)
        claim = self._signer.signal_claim(input.id, input.signal, digest, secrets.token_urlsafe(12))
        input.headers = {**input.headers, CLAIM_HEADER: claim_header(claim)}
        await super().signal_workflow(input)
