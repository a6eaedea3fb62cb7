"""Worker interceptor: updates acting as a principal, and signals carrying intent, must
carry a valid signed claim (crossdock.identity.claims), each accepted once.

Updates. Every update whose argument has a `by: Principal` (decide, cancel,
correct_address, the returns' and disputes' decisions) is checked before the workflow's
own validator: an unsigned, forged, expired or borrowed principal, a claim bound to
another update or other arguments, or one already used on this workflow is refused, so
the update is rejected and leaves no history (Temporal's rule for a failed validator).
Only updates that declare a validator pass through `handle_update_validator`, so every
update taking a principal must declare one (`unguarded_updates` finds those that do not).
The expiry check reads the wall clock: validators never run on replay.

Once-only. The nonces of accepted claims are remembered in this interceptor (one per
workflow run). The update *handler* records them as well, and handlers do run on replay,
so a worker that rebuilds the workflow from history remembers the same nonces: the
memory is deterministic and needs no history of its own. It does not survive
continue-as-new; a bound claim expires minutes after it was signed.

Signals. `answer_offer`, `link_case` and `settle_refund` change what an order or return
does (a partial refund accepted, a case keeping an order open, a refund settled), so a
forged one is as dangerous as a forged decision. A signal cannot be refused (it is in
the history before any code sees it), so one without a valid `crossdock-claim` header,
or with a nonce already used, is dropped with a warning instead of reaching its handler.
They are checked rather than converted to updates because their senders are workflows
(a return or dispute telling its order) and released workflows would need a patch on
both sides; Crossdock's clients and this worker's outbound interceptor sign them. The
check is deterministic (no clock) and behind `workflow.patched(SIGNED_SIGNALS)`, so
histories recorded before it replay delivering their unsigned signals as they did.

Once a workflow has that patch marker, every worker replaying it must call `patched`
at the same point, so a worker with verification off still installs this interceptor,
with `enforce=False`: it marks and signs but refuses nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    SignalExternalWorkflowInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.workflow._definition import _Definition

from crossdock.identity.binding import CLAIM_HEADER, claim_header, header_claim
from crossdock.identity.claims import (
    ClaimSigner,
    ClaimVerifier,
    argument_digest,
    claim_expiry,
    claim_nonce,
)
from crossdock.models.approval import Principal

REFUSED = "PrincipalRefused"
SIGNED_SIGNALS = "signed-signals"
# Signals that carry someone's intent; partner events (tracking_update, provider_event)
# are authenticated at intake, where the partner's signature is checked.
INTENT_SIGNALS = frozenset({"answer_offer", "link_case", "settle_refund"})


class PrincipalRefused(ApplicationError):
    """An update whose principal the console did not vouch for; the message says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, type=REFUSED, non_retryable=True)


class PrincipalVerification(Interceptor):
    """Verify signed claims on updates and intent signals; sign outgoing signals.

    Args:
        verifier: Holds the console's signing key(s).
        signer: Signs the signals this worker's workflows send (None: they go unsigned,
            and workers that verify drop them).
        enforce: False: refuse nothing (`verify_principals` off), only keep the
            histories' patch markers and sign outgoing signals.
    """

    def __init__(
        self, verifier: ClaimVerifier, signer: ClaimSigner | None = None, enforce: bool = True
    ) -> None:
        self._verifier = verifier
        self._signer = signer
        self._enforce = enforce

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        verifier, signer, enforce = self._verifier, self._signer, self._enforce

        class _Verifying(_VerifyingInbound):
            def __init__(self, next: WorkflowInboundInterceptor) -> None:
                super().__init__(next, verifier, signer)
                self._enforce = enforce

        return _Verifying


class _VerifyingInbound(WorkflowInboundInterceptor):
    def __init__(
        self,
        next: WorkflowInboundInterceptor,
        verifier: ClaimVerifier,
        signer: ClaimSigner | None,
    ) -> None:
        super().__init__(next)
        self._verifier = verifier
        self._signer = signer
        # Nonce → expiry (unix seconds; 0 for signals, which do not expire).
        self._used: dict[str, int] = {}
        self._enforce = True

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        if self._signer is not None:
            outbound = _SigningOutbound(outbound, self._signer)
        super().init(outbound)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        if not self._enforce:
            return super().handle_update_validator(input)
        workflow_id = workflow.info().workflow_id
        reason = principal_refusal(self._verifier, input.update, input.args, workflow_id)
        nonces = _nonces(input.args)
        if not reason and any(n in self._used for n in nonces):
            reason = "its claim was already used on this workflow (a replayed decision)"
        if reason:
            raise PrincipalRefused(f"{input.update} refused: {reason}")
        super().handle_update_validator(input)
        self._remember(input.args)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        self._remember(input.args)
        return await super().handle_update_handler(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        if input.signal in INTENT_SIGNALS and workflow.patched(SIGNED_SIGNALS):
            claim = header_claim(input.headers)
            workflow_id = workflow.info().workflow_id
            digest = argument_digest(input.args)
            reason = self._verifier.signal_refusal(claim, workflow_id, input.signal, digest)
            if not reason and claim_nonce(claim) in self._used:
                reason = "its claim was already used on this workflow (a replayed signal)"
            if reason and self._enforce:
                workflow.logger.warning(f"signal {input.signal} dropped: {reason}")
                return
            self._used[claim_nonce(claim)] = 0
        await super().handle_signal(input)

    def _remember(self, args: Sequence[Any]) -> None:
        for arg in args:
            by = getattr(arg, "by", None)
            if isinstance(by, Principal) and claim_nonce(by.claim):
                self._used[claim_nonce(by.claim)] = claim_expiry(by.claim)
        # Expired claims are refused by their expiry anyway: forget them (workflow time,
        # so replay forgets the same ones).
        now = workflow.now().timestamp()
        for nonce in [n for n, expires in self._used.items() if 0 < expires < now - 60]:
            del self._used[nonce]


class _SigningOutbound(WorkflowOutboundInterceptor):
    """Signs the signals a workflow sends to another, deterministically."""

    def __init__(self, next: WorkflowOutboundInterceptor, signer: ClaimSigner) -> None:
        super().__init__(next)
        self._signer = signer
        self._sent = 0

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        # The nonce comes from the sending run and a counter, never from workflow.random
        # (taking from it would change what the workflow's own code draws on replay).
        self._sent += 1
        info = workflow.info()
        seed = f"{info.workflow_id}\n{info.run_id}\n{self._sent}".encode()
        nonce = hashlib.sha256(seed).hexdigest()[:24]
        digest = argument_digest(input.args)
        claim = self._signer.signal_claim(input.workflow_id, input.signal, digest, nonce)
        input.headers = {**input.headers, CLAIM_HEADER: claim_header(claim)}
        await super().signal_external_workflow(input)


def principal_refusal(
    verifier: ClaimVerifier, update: str, args: Sequence[Any], workflow_id: str
) -> str:
    """Why the principals in an update's arguments are not verified; empty when all are."""
    digest = argument_digest(args)
    for arg in args:
        by = getattr(arg, "by", None)
        if isinstance(by, Principal):
            reason = verifier.refusal(by, workflow_id, update, digest)
            if reason:
                return reason
    return ""


def _nonces(args: Sequence[Any]) -> list[str]:
    return [
        claim_nonce(by.claim)
        for by in (getattr(arg, "by", None) for arg in args)
        if isinstance(by, Principal) and claim_nonce(by.claim)
    ]


def unguarded_updates(workflow_classes: Iterable[type]) -> list[str]:
    """`Workflow.update` names whose argument carries a principal but that have no
    validator, so a claim on them would go unchecked."""
    unguarded = []
    for cls in workflow_classes:
        definition = _Definition.from_class(cls)
        if definition is None:
            continue
        for name, update in definition.updates.items():
            if update.validator is None and _takes_principal(update.arg_types or []):
                unguarded.append(f"{cls.__name__}.{name}")
    return unguarded


def _takes_principal(arg_types: Sequence[type]) -> bool:
    for arg_type in arg_types:
        fields = getattr(arg_type, "model_fields", {})
        if "by" in fields and fields["by"].annotation is Principal:
            return True
    return False
