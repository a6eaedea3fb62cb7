"""`crossdock audit`: an order held for review, a refused and an accepted decision, and
the timeline rendered from the encrypted history plus the audit log (API and CLI)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError

from crossdock.audit import AuditLog
from crossdock.audit.attempts import attempt_update
from crossdock.audit.timeline import Kind, TimelineEntry, workflow_timeline
from crossdock.demo import DemoOrders, place
from crossdock.identity.claims import signer_for
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.order import Channel
from crossdock.models.order_states import OrderState
from crossdock.store import Database, upgrade
from tests.integration.conftest import Stack
from tests.integration.test_order_flow import NEAR_MISS, result_of
from workflows.order import OrderWorkflow

VIEWER = Principal(id="view-1", role=Role.VIEWER)
OPERATOR = Principal(id="ops-7", role=Role.OPERATOR)
WHY = "buyer is not the listed party: checked date of birth"


async def test_timeline_shows_states_partner_calls_and_who_decided(
    stack: Stack, tmp_path: Path
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'crossdock.db'}")
    upgrade(db)
    log = AuditLog(db)
    order = DemoOrders(seed=77, decline_rate=0.0, review_rate=0.0).next(channel=Channel.STOREFRONT)
    ship_to = order.ship_to.model_copy(update={"name": NEAR_MISS.name})
    order = order.model_copy(update={"buyer": NEAR_MISS, "ship_to": ship_to})
    await place(stack.sandbox, order)
    handle = stack.client.get_workflow_handle(order.workflow_id)
    await until_in_review(stack, order.workflow_id)

    sign = signer_for(stack.settings).sign
    refused = Decision(key="review", action=DecisionAction.APPROVE, by=sign(VIEWER, handle.id))
    with pytest.raises(WorkflowUpdateFailedError):
        await attempt_update(handle, "decide", refused, log)
    approve = Decision(
        key="review", action=DecisionAction.APPROVE, reason=WHY, by=sign(OPERATOR, handle.id)
    )
    await attempt_update(handle, "decide", approve, log)
    assert (await asyncio.wait_for(result_of(stack, order), 60)).state == OrderState.COMPLETED

    attempts = log.entries(order.workflow_id)
    assert [(a.principal_id, a.outcome) for a in attempts] == [
        ("view-1", "refused"),
        ("ops-7", "accepted"),
    ]
    assert "role 'viewer' may not decide 'review'" in attempts[0].reason
    assert all("claim" not in json.dumps(a.detail) for a in attempts)

    timeline = await workflow_timeline(stack.client, order.workflow_id, attempts)
    assert_timeline(timeline, order.buyer.email)
    await assert_cli_renders(stack, order.workflow_id, db.url)
    db.dispose()


def assert_timeline(timeline: list[TimelineEntry], email: str) -> None:
    states = [e.outcome for e in timeline if e.kind is Kind.STATE]
    assert states.index("in_review") < states.index("approved") < states.index("completed")
    decisions = [(e.who, e.role, e.outcome, e.what) for e in timeline if e.kind is Kind.DECISION]
    assert decisions == [
        ("view-1", "viewer", "refused", "decide approve review"),
        ("ops-7", "operator", "accepted", "decide approve review"),
    ]
    accepted = next(e for e in timeline if e.kind is Kind.DECISION and e.outcome == "accepted")
    assert accepted.why == WHY
    # The refusal sits after the order entered review, before the approval moved it on.
    kinds = [(e.kind, e.outcome) for e in timeline]
    assert (
        kinds.index((Kind.STATE, "in_review"))
        < kinds.index((Kind.DECISION, "refused"))
        < kinds.index((Kind.STATE, "approved"))
    )
    calls = [e for e in timeline if e.kind is Kind.PARTNER_CALL]
    assert calls and all(c.outcome.startswith(("completed", "failed")) for c in calls)
    assert any(c.outcome.startswith("completed") and c.data is not None for c in calls)
    started = timeline[0]
    assert (started.kind, started.outcome) == (Kind.WORKFLOW, "started")
    assert email in json.dumps(started.data)  # decoded through the codec
    assert (timeline[-1].kind, timeline[-1].what, timeline[-1].outcome) == (
        Kind.WORKFLOW,
        "OrderWorkflow",
        "completed",
    )
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)


async def assert_cli_renders(stack: Stack, workflow_id: str, database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    assert stack.settings.codec_keys is not None
    env |= {
        "CROSSDOCK_TEMPORAL_ADDRESS": stack.settings.temporal_address,
        "CROSSDOCK_CODEC_KEYS": stack.settings.codec_keys.get_secret_value(),
        "CROSSDOCK_DATABASE_URL": database_url,
        "CROSSDOCK_STATE_DIR": str(stack.settings.state_dir),
        "COLUMNS": "200",
    }
    as_json = json.loads(await crossdock(env, "audit", workflow_id, "--format", "json"))
    assert [e["who"] for e in as_json if e["kind"] == "decision"] == ["view-1", "ops-7"]
    rows = list(
        csv.DictReader(io.StringIO(await crossdock(env, "audit", workflow_id, "-f", "csv")))
    )
    assert [r["outcome"] for r in rows if r["kind"] == "decision"] == ["refused", "accepted"]
    assert len(rows) == len(as_json)
    table = await crossdock(env, "audit", workflow_id)
    assert "ops-7 (operator)" in table and "refused" in table
    assert "audit log intact: 2 entries" in await crossdock(env, "audit", "verify")


async def crossdock(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crossdock.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


async def until_in_review(stack: Stack, workflow_id: str) -> None:
    for _ in range(300):
        try:
            handle = stack.client.get_workflow_handle(workflow_id)
            if (await handle.query(OrderWorkflow.status)).state == OrderState.IN_REVIEW:
                return
        except Exception as err:
            if "not found" not in str(err).lower():
                raise
        await asyncio.sleep(0.2)
    raise AssertionError(f"{workflow_id} never reached review")
