"""Dispute policies: which evidence matters per reason code, how strong a packet is, and
when the operator is reminded, escalated and overruled by the deadline policy.

Pure functions over `crossdock/data/dispute_evidence.json`, called from workflow code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crossdock.models.dispute import DisputePolicy, DisputeReason, EvidencePacket
from crossdock.policies._data import load_table

_TABLE = load_table("dispute_evidence.json")
FALLBACK_REASON = "general"
REFUND_POLICY: str = _TABLE["refund_policy"]
REFUND_POLICY_DISCLOSURE: str = _TABLE["refund_policy_disclosure"]


@dataclass(frozen=True)
class EvidenceRule:
    """The evidence a reason code calls for: all of `required` makes a strong case."""

    reason: str
    required: tuple[str, ...]
    supporting: tuple[str, ...]

    @property
    def wanted(self) -> tuple[str, ...]:
        return self.required + self.supporting


def evidence_rule(reason: DisputeReason) -> EvidenceRule:
    """The rule for `reason`, or the general one for reasons the table does not list."""
    key = reason.value if reason.value in _TABLE["reasons"] else FALLBACK_REASON
    row = _TABLE["reasons"][key]
    return EvidenceRule(key, tuple(row["required"]), tuple(row["supporting"]))


def claim_reason(source: str, claim_type: str) -> DisputeReason:
    """The reason code a marketplace claim type stands for (`claim_reasons` in the table):
    `source` is "ebay_case" or "amazon"; unknown types are `general`."""
    return DisputeReason(_TABLE["claim_reasons"].get(source, {}).get(claim_type, "general"))


@dataclass(frozen=True)
class EvidenceStrength:
    rule: str
    missing: tuple[str, ...]

    @property
    def strong(self) -> bool:
        return not self.missing

    def __str__(self) -> str:
        if self.strong:
            return f"strong ({self.rule}: every required field present)"
        return f"weak ({self.rule}: missing {', '.join(self.missing)})"


def assess(packet: EvidencePacket, reason: DisputeReason) -> EvidenceStrength:
    """How strong `packet` is for `reason`: strong when every required field is there."""
    rule = evidence_rule(reason)
    have = {name for name, value in packet.fields.items() if value.strip()}
    return EvidenceStrength(rule.reason, tuple(n for n in rule.required if n not in have))


def select(packet: EvidencePacket, reason: DisputeReason) -> EvidencePacket:
    """Only the fields that matter for `reason`, so submissions stay focused."""
    wanted = set(evidence_rule(reason).wanted)
    kept = {name: value for name, value in packet.fields.items() if name in wanted and value}
    sources = {name: packet.sources[name] for name in kept if name in packet.sources}
    return EvidencePacket(fields=kept, sources=sources)


@dataclass(frozen=True)
class DecisionClocks:
    """Approval clocks relative to `now`: reminder, escalation, and the deadline policy."""

    remind_after: timedelta
    escalate_after: timedelta
    expire_after: timedelta


def decision_clocks(
    now: datetime, due_by: datetime, policy: DisputePolicy
) -> DecisionClocks | None:
    """When to remind, escalate and let the deadline policy decide, counted back from
    `due_by`; None when there is no time left to ask anyone (decide by policy at once).

    A dispute that arrives late (fewer than 72 h left) keeps the order of the clocks:
    escalation two thirds of the way to the policy's deadline, the reminder half way to
    the escalation.
    """
    expire = due_by - timedelta(seconds=policy.decide_margin_seconds) - now
    if expire <= timedelta(seconds=1):
        return None
    escalate = due_by - timedelta(seconds=policy.escalate_before_seconds) - now
    if not timedelta(0) < escalate < expire:
        escalate = expire * 2 / 3
    remind = due_by - timedelta(seconds=policy.remind_before_seconds) - now
    if not timedelta(0) < remind < escalate:
        remind = escalate / 2
    return DecisionClocks(remind, escalate, expire)
