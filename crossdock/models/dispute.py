"""Payment disputes and marketplace claims: the contracts of the dispute workflow.

A dispute arrives as provider events (Stripe `charge.dispute.*` webhooks, marketplace
claim notices), each carrying a snapshot of the dispute. Field names and statuses are
Stripe's, since that is the richest shape; marketplace claims are translated into it at
intake. Evidence is staged in Stripe's evidence field names, so the packet an operator
reviews is exactly what is submitted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crossdock.models.approval import Principal
from crossdock.money import Money


class DisputeProvider(StrEnum):
    STRIPE = "stripe"
    AMAZON = "amazon"  # A-to-z Guarantee claims
    EBAY = "ebay"  # eBay payment disputes (Fulfillment API)
    EBAY_CASE = "ebay-case"  # eBay INR / return (SNAD) cases (Post-Order API)

    @property
    def marketplace(self) -> str:
        """The channel operators filter on (the `Marketplace` search attribute)."""
        return "ebay" if self is DisputeProvider.EBAY_CASE else self.value


class DisputeReason(StrEnum):
    """Stripe's dispute reasons (`dispute.reason`)."""

    BANK_CANNOT_PROCESS = "bank_cannot_process"
    CHECK_RETURNED = "check_returned"
    CREDIT_NOT_PROCESSED = "credit_not_processed"
    CUSTOMER_INITIATED = "customer_initiated"
    DEBIT_NOT_AUTHORIZED = "debit_not_authorized"
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    GENERAL = "general"
    INCORRECT_ACCOUNT_DETAILS = "incorrect_account_details"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    NONCOMPLIANT = "noncompliant"
    PRODUCT_NOT_RECEIVED = "product_not_received"
    PRODUCT_UNACCEPTABLE = "product_unacceptable"
    SUBSCRIPTION_CANCELED = "subscription_canceled"
    UNRECOGNIZED = "unrecognized"


class ProviderStatus(StrEnum):
    """Stripe's dispute statuses. `warning_*` are inquiries (retrieval requests): no money
    moved yet, and they may escalate into a chargeback (`needs_response`)."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    APPEAL_NEEDS_RESPONSE = "appeal_needs_response"
    APPEAL_UNDER_REVIEW = "appeal_under_review"
    WON = "won"
    LOST = "lost"
    PREVENTED = "prevented"


# Statuses waiting for our answer, and the ones that end a round.
NEEDS_ANSWER = frozenset(
    {
        ProviderStatus.WARNING_NEEDS_RESPONSE,
        ProviderStatus.NEEDS_RESPONSE,
        ProviderStatus.APPEAL_NEEDS_RESPONSE,
    }
)
FINAL = frozenset(
    {
        ProviderStatus.WON,
        ProviderStatus.LOST,
        ProviderStatus.WARNING_CLOSED,
        ProviderStatus.PREVENTED,
    }
)

# Where a status sits inside one round (asked → under review → decided): breaks ties
# between events stamped in the same second, so a late `needs_response` never undoes
# the `under_review` that followed it.
STATUS_RANK: dict[ProviderStatus, int] = {
    ProviderStatus.WARNING_NEEDS_RESPONSE: 0,
    ProviderStatus.NEEDS_RESPONSE: 0,
    ProviderStatus.APPEAL_NEEDS_RESPONSE: 0,
    ProviderStatus.WARNING_UNDER_REVIEW: 1,
    ProviderStatus.UNDER_REVIEW: 1,
    ProviderStatus.APPEAL_UNDER_REVIEW: 1,
    ProviderStatus.WARNING_CLOSED: 2,
    ProviderStatus.WON: 2,
    ProviderStatus.LOST: 2,
    ProviderStatus.PREVENTED: 2,
}

# Which round a status belongs to: an inquiry's, a chargeback's, or an appeal's
# (pre-arbitration); a decision ends a chargeback or an appeal.
ROUND_KINDS: dict[ProviderStatus, frozenset[str]] = {
    ProviderStatus.WARNING_NEEDS_RESPONSE: frozenset({"inquiry"}),
    ProviderStatus.WARNING_UNDER_REVIEW: frozenset({"inquiry"}),
    ProviderStatus.WARNING_CLOSED: frozenset({"inquiry"}),
    ProviderStatus.NEEDS_RESPONSE: frozenset({"chargeback"}),
    ProviderStatus.UNDER_REVIEW: frozenset({"chargeback"}),
    ProviderStatus.APPEAL_NEEDS_RESPONSE: frozenset({"appeal"}),
    ProviderStatus.APPEAL_UNDER_REVIEW: frozenset({"appeal"}),
    ProviderStatus.WON: frozenset({"chargeback", "appeal"}),
    ProviderStatus.LOST: frozenset({"chargeback", "appeal"}),
    ProviderStatus.PREVENTED: frozenset({"chargeback", "appeal"}),
}


def moves_on(read: ProviderStatus, current: ProviderStatus) -> bool:
    """Whether `read`, a status with no time of its own (an API call's answer), is later
    than `current` for certain: further along the same round. A round only moves
    forward (asked, under review, decided), so a decided dispute never goes back to
    under review; anything else is left to the provider's timestamped events."""
    return STATUS_RANK[read] > STATUS_RANK[current] and bool(
        ROUND_KINDS[read] & ROUND_KINDS[current]
    )


# Stripe's evidence fields (`dispute.evidence`). The File-typed ones (receipt,
# customer_communication, refund_policy, shipping_documentation, ...) hold a file id at
# Stripe; we stage a document reference there.
EVIDENCE_FIELDS = frozenset(
    """access_activity_log billing_address cancellation_policy cancellation_policy_disclosure
    cancellation_rebuttal customer_communication customer_email_address customer_name
    customer_purchase_ip customer_signature duplicate_charge_documentation
    duplicate_charge_explanation duplicate_charge_id product_description receipt
    refund_policy refund_policy_disclosure refund_refusal_explanation service_date
    service_documentation shipping_address shipping_carrier shipping_date
    shipping_documentation shipping_tracking_number uncategorized_file
    uncategorized_text""".split()
)
# Stripe limits the text of all evidence fields together to 150,000 characters.
EVIDENCE_TEXT_LIMIT = 150_000


def check_evidence(fields: dict[str, str]) -> dict[str, str]:
    """`fields` if every name is a Stripe evidence field and the text fits; else ValueError."""
    unknown = sorted(set(fields) - EVIDENCE_FIELDS)
    if unknown:
        raise ValueError(
            f"unknown evidence field(s) {', '.join(unknown)}; use Stripe's names, e.g. "
            "shipping_tracking_number, receipt, product_description"
        )
    size = sum(len(value) for value in fields.values())
    if size > EVIDENCE_TEXT_LIMIT:
        raise ValueError(f"evidence text is {size} characters; the limit is {EVIDENCE_TEXT_LIMIT}")
    return fields


# Evidence by Stripe field name, refused when a name is not one Stripe takes.
EvidenceFields = Annotated[dict[str, str], AfterValidator(check_evidence)]


class DisputeSnapshot(BaseModel):
    """A dispute as its provider describes it in one event."""

    model_config = ConfigDict(frozen=True)

    # Provider ids are short; bounded so one cannot make a workflow id Temporal refuses.
    id: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_-]+$")
    charge: str = Field(default="", max_length=255)
    payment_intent: str | None = Field(default=None, max_length=255)
    # Marketplace claims name the order directly; Stripe disputes through the charge.
    order_workflow_id: str | None = Field(default=None, max_length=255)
    amount: Money
    reason: DisputeReason
    status: ProviderStatus
    due_by: datetime | None = None
    submission_count: int = Field(default=0, ge=0)

    @property
    def inquiry(self) -> bool:
        return self.status.startswith("warning_")


class DisputeEvent(BaseModel):
    """One provider event about a dispute (webhook `charge.dispute.*`), as intake signals it."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(min_length=1)
    type: str
    created: datetime
    dispute: DisputeSnapshot

    @property
    def order_key(self) -> tuple[datetime, int]:
        """Later events sort higher; within a second, later statuses of a round do."""
        return self.created, STATUS_RANK[self.dispute.status]


class EvidencePacket(BaseModel):
    """Evidence staged for submission, in Stripe's field names, with where each came from."""

    fields: EvidenceFields = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)


class GatherEvidenceInput(BaseModel):
    dispute_id: str
    reason: DisputeReason
    payment_intent: str | None = None
    order_workflow_id: str | None = None


class GatheredEvidence(BaseModel):
    """What the order knew, turned into evidence; `order_workflow_id` "" if none found."""

    order_workflow_id: str = ""
    order_state: str = ""
    order_closed: bool = False
    packet: EvidencePacket = Field(default_factory=EvidencePacket)
    # Returns still open on the order: refunding the dispute and the return would pay twice.
    open_returns: list[str] = Field(default_factory=list)
    refundable: Money | None = None


class SubmitEvidenceInput(BaseModel):
    dispute_id: str
    evidence: dict[str, str]
    idempotency_key: str
    provider: DisputeProvider = DisputeProvider.STRIPE


class ReadDisputeInput(BaseModel):
    """Read a dispute as its provider has it now (the source of truth)."""

    dispute_id: str
    provider: DisputeProvider = DisputeProvider.STRIPE


class CloseDisputeInput(BaseModel):
    dispute_id: str
    idempotency_key: str
    provider: DisputeProvider = DisputeProvider.STRIPE


class DisputeAnswer(BaseModel):
    """The provider's dispute after we submitted or accepted."""

    dispute_id: str
    status: ProviderStatus
    submission_count: int


class EvidenceEdit(BaseModel):
    """An operator's changes to the staged packet (update `edit_evidence`): fields set to
    "" are removed."""

    model_config = ConfigDict(frozen=True)

    fields: EvidenceFields
    by: Principal
    note: str = Field(default="", max_length=500)


class RecordLossInput(BaseModel):
    """Reserve and settle a lost or accepted dispute's amount on its order's ledger."""

    order_workflow_id: str
    case_id: str
    step: str
    amount: Money
    reason: str


class LossRecorded(BaseModel):
    # reserved (and settled) | refused (the order's validator said why) | order_closed
    outcome: str
    reservation_id: str = ""
    detail: str = ""


class DisputePolicy(BaseModel):
    """Settings the dispute workflow needs, fixed at start so replays see the same values.

    The decision clocks count back from the provider's `due_by`: reminder and escalation
    at the usual 72 h and 24 h before, and the deadline policy acts `decide_margin` before
    `due_by`, leaving time to submit (with retries) before the provider's cut-off.
    """

    remind_before_seconds: float = Field(default=72 * 3600, gt=0)
    escalate_before_seconds: float = Field(default=24 * 3600, gt=0)
    decide_margin_seconds: float = Field(default=6 * 3600, gt=0)
    # Contesting or conceding this much or more needs a finance (or admin) approver; per
    # currency, minor units (the returns policy's thresholds). A currency not listed always
    # needs finance.
    finance_thresholds: dict[str, int] = Field(
        default_factory=lambda: {
            "EUR": 50_000,
            "GBP": 43_000,
            "USD": 54_000,
            "JPY": 80_000,
            "AUD": 82_000,
            "CAD": 74_000,
        }
    )
    # After a win, how long a pre-arbitration or second chargeback may still reopen it.
    reopen_window_seconds: float = Field(default=45 * 24 * 3600, gt=0)
    # Waiting for the provider's verdict (or after a refusal left to it), the dispute is
    # read from the provider every this long until a verdict arrives: a dropped webhook,
    # a poll that missed a change or an answer that crossed an event cannot leave it
    # waiting for ever.
    recheck_after_seconds: float = Field(default=24 * 3600, gt=0)

    def finance_threshold(self, currency: str) -> Money | None:
        amount = self.finance_thresholds.get(currency)
        return Money(amount=amount, currency=currency) if amount is not None else None


class EvidenceEdited(BaseModel):
    """What the `edit_evidence` update answers: the packet's fields and strength now."""

    fields: list[str]
    strength: str


class PollDisputesInput(BaseModel):
    """One poll of a marketplace's payment disputes (state carried by the poller)."""

    # What each dispute last looked like when signalled: id -> "status:revision".
    seen: dict[str, str] = Field(default_factory=dict)


class PollDisputesResult(BaseModel):
    seen: dict[str, str]
    signalled: int


class DisputePollInput(BaseModel):
    """The marketplace dispute poller's input, and what continue-as-new carries."""

    interval_seconds: float = Field(gt=0)
    seen: dict[str, str] = Field(default_factory=dict)
    # Marketplace claims (eBay cases, A-to-z claims) last signalled: "provider:id" -> state.
    claims_seen: dict[str, str] = Field(default_factory=dict)
