"""A workflow's Temporal history as a human timeline: who, what, when, why.

Reads the history through a client whose data converter holds the codec keys, so every
payload (inputs, results, decisions) is shown decoded. Entries:

- `state`: the workflow moved (the `CrossdockState` search attribute it upserts);
- `partner_call`: an activity, with its outcome and how many attempts it took;
- `decision`: an operator's update (decide, cancel, ...) with who, role and why, and
  from the audit log the attempts the workflow refused (Temporal keeps no trace of them);
- `signal`, `timer`, `flag` (AwaitingApproval / NeedsAttention), `workflow`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC as _UTC
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.converter import default as default_converter

from crossdock.audit.log import AuditEntry, Outcome

STATE_ATTRIBUTE = "CrossdockState"
FLAG_ATTRIBUTES = ("AwaitingApproval", "NeedsAttention")

E = EventType


class Kind(StrEnum):
    WORKFLOW = "workflow"
    STATE = "state"
    PARTNER_CALL = "partner_call"
    DECISION = "decision"
    SIGNAL = "signal"
    TIMER = "timer"
    FLAG = "flag"


class TimelineEntry(BaseModel):
    """One line of the timeline; `data` is the decoded payload behind it, if any."""

    at: datetime
    kind: Kind
    what: str
    outcome: str = ""
    who: str = ""
    role: str = ""
    why: str = ""
    data: Any = None


async def workflow_timeline(
    client: Client, workflow_id: str, audit: Iterable[AuditEntry] = ()
) -> list[TimelineEntry]:
    """The timeline of `workflow_id`'s latest run, merged with its refused attempts."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    reader = HistoryReader(client.data_converter)
    for event in history.events:
        await reader.read(event)
    refused = [refused_attempt(entry) for entry in audit if entry.outcome is Outcome.REFUSED]
    return sorted([*reader.entries, *refused], key=lambda entry: entry.at)


def refused_attempt(entry: AuditEntry) -> TimelineEntry:
    return TimelineEntry(
        at=entry.at,
        kind=Kind.DECISION,
        what=_decision_what(entry.action, entry.detail),
        outcome="refused",
        who=entry.principal_id,
        role=entry.role,
        why=entry.reason,
        data=entry.detail or None,
    )


class HistoryReader:
    """Turns history events into timeline entries, remembering what later events refer to."""

    def __init__(self, converter: DataConverter) -> None:
        self._converter = converter
        self._activities: dict[int, str] = {}
        self._attempts: dict[int, int] = {}
        self._updates: dict[str, str] = {}
        self._flags: dict[str, Any] = {}
        self._workflow_type = "workflow"
        self.entries: list[TimelineEntry] = []

    async def read(self, event: HistoryEvent) -> None:
        handler = _HANDLERS.get(event.event_type)
        if handler is not None:
            await handler(self, event)

    def _add(self, event: HistoryEvent, kind: Kind, what: str, **fields: Any) -> None:
        at = event.event_time.ToDatetime(tzinfo=_UTC)
        self.entries.append(TimelineEntry(at=at, kind=kind, what=what, **fields))

    async def _decode(self, payloads: Sequence[Payload]) -> list[Any]:
        if not payloads:
            return []
        try:
            return list(await self._converter.decode(payloads))
        except Exception as err:  # a payload of a dropped key must not hide the rest
            return [f"<cannot decode: {err}>"]

    async def _first(self, payloads: Sequence[Payload]) -> Any:
        values = await self._decode(payloads)
        return values[0] if len(values) == 1 else (values or None)

    async def started(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_started_event_attributes
        data = await self._first(attrs.input.payloads)
        self._workflow_type = attrs.workflow_type.name
        self._add(event, Kind.WORKFLOW, self._workflow_type, outcome="started", data=data)

    async def closed(self, event: HistoryEvent) -> None:
        outcome, why, data = "completed", "", None
        if event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            data = await self._first(
                event.workflow_execution_completed_event_attributes.result.payloads
            )
        elif event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            outcome, why = (
                "failed",
                _failure(event.workflow_execution_failed_event_attributes.failure),
            )
        elif event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            outcome, why = "terminated", event.workflow_execution_terminated_event_attributes.reason
        elif event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
            outcome = "canceled"
        elif event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
            outcome = "timed out"
        else:
            outcome = "continued as new"
        self._add(event, Kind.WORKFLOW, self._workflow_type, outcome=outcome, why=why, data=data)

    async def activity_scheduled(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_scheduled_event_attributes
        self._activities[event.event_id] = attrs.activity_type.name

    async def activity_started(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_started_event_attributes
        self._attempts[attrs.scheduled_event_id] = attrs.attempt

    async def activity_closed(self, event: HistoryEvent) -> None:
        data: Any = None
        why = ""
        if event.event_type == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attrs: Any = event.activity_task_completed_event_attributes
            outcome = "completed"
            data = await self._first(attrs.result.payloads)
        elif event.event_type == E.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            attrs = event.activity_task_failed_event_attributes
            outcome, why = "failed", _failure(attrs.failure)
        elif event.event_type == E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            attrs = event.activity_task_timed_out_event_attributes
            outcome, why = "timed out", _failure(attrs.failure)
        else:
            attrs = event.activity_task_canceled_event_attributes
            outcome = "canceled"
        scheduled = attrs.scheduled_event_id
        attempts = self._attempts.get(scheduled, 1)
        if attempts > 1:
            outcome += f" after {attempts} attempts"
        name = self._activities.get(scheduled, "activity")
        self._add(event, Kind.PARTNER_CALL, name, outcome=outcome, why=why, data=data)

    async def update_accepted(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_update_accepted_event_attributes
        request = attrs.accepted_request
        name = request.input.name
        self._updates[request.meta.update_id] = name
        arg = await self._first(request.input.args.payloads)
        by = arg.get("by") if isinstance(arg, dict) else None
        who, role = (
            (str(by.get("id", "")), str(by.get("role", ""))) if isinstance(by, dict) else ("", "")
        )
        why = str(arg.get("reason", "")) if isinstance(arg, dict) else ""
        kind = Kind.DECISION if who else Kind.SIGNAL
        what = _decision_what(name, arg if isinstance(arg, dict) else {})
        self._add(event, kind, what, outcome="accepted", who=who, role=role, why=why, data=arg)

    async def update_completed(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_update_completed_event_attributes
        if attrs.outcome.HasField("failure"):
            name = self._updates.get(attrs.meta.update_id, "update")
            why = _failure(attrs.outcome.failure)
            self._add(event, Kind.DECISION, name, outcome="failed", why=why)

    async def signaled(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_signaled_event_attributes
        data = await self._first(attrs.input.payloads)
        why = _signal_detail(data)
        self._add(event, Kind.SIGNAL, attrs.signal_name, outcome="received", why=why, data=data)

    async def signal_sent(self, event: HistoryEvent) -> None:
        attrs = event.signal_external_workflow_execution_initiated_event_attributes
        target = attrs.workflow_execution.workflow_id
        data = await self._first(attrs.input.payloads)
        self._add(event, Kind.SIGNAL, f"{attrs.signal_name} → {target}", outcome="sent", data=data)

    async def timer_fired(self, event: HistoryEvent) -> None:
        attrs = event.timer_fired_event_attributes
        self._add(event, Kind.TIMER, f"timer {attrs.timer_id}", outcome="fired")

    async def search_attributes(self, event: HistoryEvent) -> None:
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        for name, payload in fields.indexed_fields.items():
            value = _search_value(payload)
            if name == STATE_ATTRIBUTE:
                self._add(event, Kind.STATE, f"→ {value}", outcome=str(value))
            elif name in FLAG_ATTRIBUTES and self._flags.get(name) != value:
                self._flags[name] = value
                self._add(event, Kind.FLAG, name, outcome="on" if value else "off")


def _decision_what(name: str, arg: dict[str, Any]) -> str:
    """`decide approve review` / `cancel`: the update and, for decisions, what was chosen."""
    parts = [name, str(arg.get("action", "")), str(arg.get("key", ""))]
    return " ".join(part for part in parts if part)


def _signal_detail(data: Any) -> str:
    """What a partner event said, e.g. a tracking update's status and description."""
    if not isinstance(data, dict):
        return ""
    parts = [str(data[key]) for key in ("status", "description", "summary") if data.get(key)]
    return ": ".join(dict.fromkeys(parts))


def _failure(failure: Failure) -> str:
    message = failure.message
    cause = failure.cause if failure.HasField("cause") else None
    while cause is not None and cause.message:
        message = f"{message}: {cause.message}" if message else cause.message
        cause = cause.cause if cause.HasField("cause") else None
    return message


def _search_value(payload: Payload) -> Any:
    # Search attributes are never encrypted (the server indexes them).
    value = default_converter().payload_converter.from_payloads([payload])[0]
    return value[0] if isinstance(value, list) and len(value) == 1 else value


_CLOSED = (
    E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
)
_ACTIVITY_CLOSED = (
    E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    E.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    E.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
)
_HANDLERS: dict[int, Any] = {
    E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: HistoryReader.started,
    **{event_type: HistoryReader.closed for event_type in _CLOSED},
    E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: HistoryReader.activity_scheduled,
    E.EVENT_TYPE_ACTIVITY_TASK_STARTED: HistoryReader.activity_started,
    **{event_type: HistoryReader.activity_closed for event_type in _ACTIVITY_CLOSED},
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: HistoryReader.update_accepted,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: HistoryReader.update_completed,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: HistoryReader.signaled,
    E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: HistoryReader.signal_sent,
    E.EVENT_TYPE_TIMER_FIRED: HistoryReader.timer_fired,
    E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: HistoryReader.search_attributes,
}
