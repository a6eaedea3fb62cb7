"""DisputeWorkflow: one payment dispute or marketplace claim (see docs/lifecycles.md).

`dispute-{provider}-{id}`, started by intake with the provider's first event (signal-
with-start, so later events reach the same run). Each round: gather the evidence from
the order and stage it, let an operator contest or accept before the deadline (or the
deadline policy decide), submit exactly once, then wait for the provider's verdict (read
from the provider when it is slow to come, dispute_verdict.py). An inquiry escalating
into a chargeback, or a won dispute coming back as pre-arbitration or a second
chargeback, starts a new round in a new run (continue-as-new) with the same status and
timeline. Lost or accepted amounts are booked on the order's refund ledger.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import Decision, DecisionReceipt, Role
    from crossdock.models.dispute import DisputeEvent, EvidenceEdit, EvidenceEdited
    from crossdock.models.dispute_states import DisputeState
    from crossdock.models.dispute_status import DisputeInput, DisputeResult, DisputeStatus
    from crossdock.policies.disputes import assess
    from workflows.dispute_context import DisputeContext
    from workflows.dispute_decision import Choice, decide, terms_refusal
    from workflows.dispute_evidence import gather
    from workflows.dispute_outcome import accept, apply_outcome, submit
    from workflows.dispute_questions import answer_refusal, contests
    from workflows.dispute_verdict import await_verdict
    from workflows.options import condition_within
    from workflows.projection import READ_MODEL, Projector, dispute_projector, projected
    from workflows.search import CROSSDOCK_STATE

EDITORS = frozenset({Role.OPERATOR, Role.FINANCE, Role.ADMIN})
CLOSED = frozenset({DisputeState.ACCEPTED, DisputeState.LOST})


@workflow.defn
class DisputeWorkflow:
    @workflow.init
    def __init__(self, input: DisputeInput) -> None:
        self._input = input
        self._ctx = DisputeContext(input)
        self._projector: Projector | None = None

    @workflow.run
    async def run(self, input: DisputeInput) -> DisputeResult:
        ctx = self._ctx
        if workflow.patched(READ_MODEL):
            self._projector = dispute_projector(lambda: ctx.status)
        return await projected(self._projector, self._run(input))

    def _answered(self) -> None:
        # The operator's answer first, the read model's row in the next task.
        if self._projector is not None:
            self._projector.answered()

    async def _run(self, input: DisputeInput) -> DisputeResult:
        ctx = self._ctx
        if input.carried is None:
            first = input.first_event.dispute
            ctx.note("opened", f"{input.provider} {first.reason} {first.amount} ({first.status})")
            ctx.receive(input.first_event)
            workflow.upsert_search_attributes([CROSSDOCK_STATE.value_set(ctx.status.state)])
        while ctx.status.state not in CLOSED:
            if ctx.status.state is DisputeState.OPENED:
                await self._answer()
            elif ctx.status.state in (DisputeState.WON, DisputeState.INQUIRY_CLOSED):
                window = input.policy.reopen_window_seconds
                if not await condition_within(lambda: ctx.asked_again, window):
                    break
                await self._next_round()
            else:
                await await_verdict(ctx)
                if ctx.asked_again:
                    await self._next_round()
                else:
                    await apply_outcome(ctx)
        await ctx.tell_order(False, f"{ctx.status.state} after {ctx.status.round} round(s)")
        return self._result()

    async def _answer(self) -> None:
        ctx = self._ctx
        if ctx.provider_closed:
            await apply_outcome(ctx)
            return
        await gather(ctx)
        choice = None if ctx.provider_closed else await decide(ctx)
        if choice is Choice.CONTEST:
            await submit(ctx)
        elif choice is Choice.ACCEPT:
            await accept(ctx)

    async def _next_round(self) -> None:
        """The provider asks again: a new round, in a new run that keeps the status."""
        ctx = self._ctx
        ctx.status.round += 1
        snapshot = ctx.status.snapshot
        ctx.move(DisputeState.OPENED, f"round {ctx.status.round}: {snapshot.status}")
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            DisputeInput(
                provider=self._input.provider,
                first_event=self._input.first_event,
                policy=self._input.policy,
                carried=ctx.status,
            )
        )

    def _result(self) -> DisputeResult:
        status = self._ctx.status
        return DisputeResult(
            state=status.state,
            rounds=status.round,
            submissions=sum(1 for a in status.answers if a.submission_count),
            decided_by=status.decided_by,
            loss=status.loss,
        )

    @workflow.signal
    def provider_event(self, event: DisputeEvent) -> None:
        """A provider webhook about this dispute; duplicates and stale events change nothing."""
        self._ctx.receive(event)

    @workflow.update
    def decide(self, decision: Decision) -> DecisionReceipt:
        """An operator's decision: approve = contest (submit the packet), reject = accept."""
        self._answered()
        return self._ctx.approval.accept(decision)

    @decide.validator
    def _check_decision(self, decision: Decision) -> None:
        why = terms_refusal(decision) or answer_refusal(decision)
        if why:
            raise ApplicationError(why, non_retryable=True)
        self._ctx.approval.validate(decision)
        status = self._ctx.status
        editors = {editor.id for editor in status.editors}
        if status.edited_by is not None:  # a packet edited before `editors` was kept
            editors.add(status.edited_by.id)
        if contests(decision) and decision.by.id in editors:
            raise ApplicationError(
                f"{decision.by.id} edited the evidence and may not also approve contesting "
                f"it (maker ≠ checker; editors: {', '.join(sorted(editors))}): someone who "
                "did not edit it must approve",
                non_retryable=True,
            )

    @workflow.update
    def edit_evidence(self, edit: EvidenceEdit) -> EvidenceEdited:
        """Change the staged packet before it is submitted ("" removes a field)."""
        self._answered()
        status = self._ctx.status
        fields = {**status.packet.fields, **edit.fields}
        status.packet.fields = {name: value for name, value in fields.items() if value}
        for name in edit.fields:
            status.packet.sources[name] = f"edited by {edit.by.id}"
        status.edited_by = edit.by
        if edit.by not in status.editors:
            status.editors.append(edit.by)
        status.strength = str(assess(status.packet, status.snapshot.reason))
        self._ctx.note("evidence_edited", f"{edit.by.id}: {', '.join(sorted(edit.fields))}")
        return EvidenceEdited(fields=sorted(status.packet.fields), strength=status.strength)

    @edit_evidence.validator
    def _check_edit(self, edit: EvidenceEdit) -> None:
        if edit.by.role not in EDITORS:
            allowed = ", ".join(sorted(EDITORS))
            raise ValueError(f"role {edit.by.role} may not edit evidence (allowed: {allowed})")
        state = self._ctx.status.state
        if state not in (DisputeState.EVIDENCE_STAGED, DisputeState.AWAITING_DECISION):
            raise ValueError(
                f"dispute is {state}: evidence can be edited only while it awaits a decision"
            )

    @workflow.query
    def status(self) -> DisputeStatus:
        """Live state, provider view, staged evidence, decisions and timeline."""
        return self._ctx.status
