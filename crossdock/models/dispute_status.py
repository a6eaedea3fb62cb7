"""Everything the dispute workflow knows, in one model: queried, and passed on whole by
continue-as-new so a long case keeps its timeline."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from crossdock.models.approval import ApprovalStatus, Principal
from crossdock.models.dispute import (
    DisputeAnswer,
    DisputeEvent,
    DisputePolicy,
    DisputeProvider,
    DisputeSnapshot,
    EvidencePacket,
    LossRecorded,
)
from crossdock.models.dispute_states import DisputeState
from crossdock.models.lifecycle import TimelineEntry
from crossdock.money import Money

# Event ids remembered for deduplication; older ones are also older than the latest
# event, so the out-of-order rule still refuses them.
EVENTS_REMEMBERED = 200


class DisputeStatus(BaseModel):
    provider: DisputeProvider
    dispute_id: str
    state: DisputeState = DisputeState.OPENED
    # The latest provider view (by event time, then by status within a round).
    snapshot: DisputeSnapshot
    events_seen: list[str] = Field(default_factory=list)
    # (created, status rank) of the event `snapshot` came from; older events are stale.
    latest_event: tuple[datetime, int] | None = None
    round: int = 1
    timeline: list[TimelineEntry] = Field(default_factory=list)
    order_workflow_id: str = ""
    order_state: str = ""
    open_returns: list[str] = Field(default_factory=list)
    packet: EvidencePacket = Field(default_factory=EvidencePacket)
    strength: str = ""
    # Who last edited the staged packet, and everyone who edited it this round: none of
    # them may also approve contesting it.
    edited_by: Principal | None = None
    editors: list[Principal] = Field(default_factory=list)
    approvals: list[ApprovalStatus] = Field(default_factory=list)
    answers: list[DisputeAnswer] = Field(default_factory=list)
    # Who decided the last round: an operator's account id, or "deadline_policy".
    decided_by: str = ""
    loss: LossRecorded | None = None
    lost_amount: Money | None = None
    needs_attention: bool = False
    reason: str = ""


class DisputeInput(BaseModel):
    """How intake starts a dispute (with its first event), and how continue-as-new
    carries it on (`carried`)."""

    provider: DisputeProvider
    first_event: DisputeEvent
    policy: DisputePolicy = Field(default_factory=DisputePolicy)
    carried: DisputeStatus | None = None


class DisputeResult(BaseModel):
    state: DisputeState
    rounds: int
    submissions: int
    decided_by: str = ""
    loss: LossRecorded | None = None
