"""Worker interceptor: an update acting as a principal must carry a valid signed claim.

Every update whose argument has a `by: Principal` (decide, cancel, correct_address, and
the returns' and disputes' decisions) is checked before the workflow's own validator: an
unsigned, forged, expired or borrowed principal is refused, so the update is rejected
and leaves no history (Temporal's rule for a failed validator).

Only updates that declare a validator pass through `handle_update_validator`, so every
update taking a principal must declare one (`unguarded_updates` finds those that do not;
a test runs it over the worker's workflows).

The check reads the wall clock: validators run when the update arrives and never on
replay, so the workflow stays deterministic, and claims expire in real time even on the
time-skipping test server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)
from temporalio.workflow._definition import _Definition

from crossdock.identity.claims import ClaimVerifier
from crossdock.models.approval import Principal

REFUSED = "PrincipalRefused"


class PrincipalRefused(ApplicationError):
    """An update whose principal the console did not vouch for; the message says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, type=REFUSED, non_retryable=True)


class PrincipalVerification(Interceptor):
    """Verify signed principal claims on every update that carries one.

    Args:
        verifier: Holds the console's signing key(s).
    """

    def __init__(self, verifier: ClaimVerifier) -> None:
        self._verifier = verifier

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        verifier = self._verifier

        class _VerifyingInbound(WorkflowInboundInterceptor):
            def handle_update_validator(self, input: HandleUpdateInput) -> None:
                reason = principal_refusal(verifier, input.args, workflow.info().workflow_id)
                if reason:
                    raise PrincipalRefused(f"{input.update} refused: {reason}")
                super().handle_update_validator(input)

        return _VerifyingInbound


def principal_refusal(verifier: ClaimVerifier, args: Sequence[Any], workflow_id: str) -> str:
    """Why the principals in an update's arguments are not verified; empty when all are."""
    for arg in args:
        by = getattr(arg, "by", None)
        if isinstance(by, Principal):
            reason = verifier.refusal(by, workflow_id)
            if reason:
                return reason
    return ""


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
