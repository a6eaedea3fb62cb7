"""The console's JSON API on a real stack: authentication, the inbox, lists and filters,
detail, and actions that reach the workflows' validators (role, reason, maker ≠ checker,
finance threshold), each attempt in the audit log."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime

import httpx
from google.protobuf.json_format import MessageToDict

from crossdock.audit.log import AuditLog
from crossdock.demo import NEAR_MISS_BUYERS, place
from crossdock.models.approval import Principal, Role
from crossdock.models.order_states import OrderState
from crossdock.store import Database
from tests.browser.conftest import (
    PASSWORD,
    Console,
    case_state,
    delivered_order,
    eur_order,
    large_return,
    open_dispute,
    order_in_review,
    wait_for_state,
)


def attempts(console: Console, workflow_id: str) -> list[tuple[str, str, str]]:
    db = Database.from_settings(console.stack.settings)
    try:
        entries = AuditLog(db).entries(workflow_id)
    finally:
        db.dispose()
    return [(e.principal_id, e.outcome.value, e.reason) for e in entries]


async def test_without_a_valid_token_the_api_answers_401_json(console: Console) -> None:
    async with httpx.AsyncClient(base_url=console.url) as anonymous:
        missing = await anonymous.get("/api/inbox")
        forged = await anonymous.get("/api/inbox", headers={"Authorization": "Bearer cdk_nope"})
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthenticated"
    assert "Authorization: Bearer" in missing.json()["message"]
    assert forged.status_code == 401
    assert "not accepted" in forged.json()["message"]
    async with console.api("fin-1") as api:
        me = (await api.get("/api/me")).json()
    assert me == {"account_id": "fin-1", "role": "finance", "language": "en", "time_zone": "UTC"}


async def test_openapi_describes_the_console(console: Console) -> None:
    async with httpx.AsyncClient(base_url=console.url) as anonymous:
        spec = (await anonymous.get("/openapi.json")).json()
    assert {"/api/inbox", "/api/cases/{workflow_id}/decide", "/api/{kind}"} <= set(spec["paths"])


async def test_an_order_in_review_is_in_the_inbox_lists_and_detail(console: Console) -> None:
    workflow_id = await order_in_review(console)
    async with console.api("view-1") as api:
        inbox = (await api.get("/api/inbox")).json()
        listed = (await api.get("/api/orders", params={"state": "in_review"})).json()
        other = (await api.get("/api/orders", params={"state": "delivered"})).json()
        wrong = await api.get("/api/orders", params={"state": "lost_in_space"})
        case = (await api.get(f"/api/cases/{workflow_id}")).json()
        home = case["status"]["ship_to"]["country"]
        there = (await api.get("/api/orders", params={"destination": home})).json()
        away = "JP" if home != "JP" else "FR"
        elsewhere = (await api.get("/api/orders", params={"destination": away})).json()
        missing = await api.get("/api/cases/order-storefront-SF0")
    item = next(i for i in inbox if i["workflow_id"] == workflow_id)
    assert item["kind"] == "order" and item["state"] == "in_review"
    assert item["approval"]["key"] == "review"
    deadlines = [i["approval"]["deadline"] for i in inbox]
    assert deadlines == sorted(deadlines), "nearest deadline first"
    assert workflow_id in [row["workflow_id"] for row in listed]
    assert workflow_id not in [row["workflow_id"] for row in other]
    assert workflow_id in [row["workflow_id"] for row in there]
    assert workflow_id not in [row["workflow_id"] for row in elsewhere]
    assert wrong.status_code == 400 and "'lost_in_space' is not a order state" in wrong.text
    assert case["pending"]["key"] == "review"
    assert case["summary"]["awaiting_approval"] is True
    assert [e["event"] for e in case["timeline"]][:1] == ["received"]
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_refused_decisions_say_why_and_are_audited(console: Console) -> None:
    workflow_id = await order_in_review(console)
    decide = f"/api/cases/{workflow_id}/decide"
    async with console.api("view-1") as viewer, console.api("ops-1") as ops:
        by_viewer = await viewer.post(decide, json={"key": "review", "action": "approve"})
        no_reason = await ops.post(decide, json={"key": "review", "action": "reject"})
        stale = await ops.post(decide, json={"key": "review-old", "action": "approve"})
    assert by_viewer.status_code == 409
    assert by_viewer.json() == {
        "error": "refused",
        "message": by_viewer.json()["message"],
    }
    assert "role 'viewer' may not decide 'review'" in by_viewer.json()["message"]
    assert "a reason is required to reject" in no_reason.json()["message"]
    assert "pending approval is 'review'" in stale.json()["message"]
    logged = attempts(console, workflow_id)
    assert [(who, outcome) for who, outcome, _ in logged] == [
        ("view-1", "refused"),
        ("ops-1", "refused"),
        ("ops-1", "refused"),
    ]
    assert "a reason is required" in logged[1][2]


async def test_an_approved_order_moves_on_and_the_decision_is_audited(console: Console) -> None:
    workflow_id = await order_in_review(console)
    async with console.api("ops-2") as ops:
        answer = await ops.post(
            f"/api/cases/{workflow_id}/decide",
            json={"key": "review", "action": "approve", "reason": "buyer checked by phone"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"]["state"] == "approved"
        assert answer.json()["result"]["by"]["id"] == "ops-2"
        state = await wait_for_state(
            console,
            workflow_id,
            {OrderState.IN_TRANSIT, OrderState.DELIVERED, OrderState.COMPLETED},
        )
        case = (await ops.get(f"/api/cases/{workflow_id}")).json()
        again = await ops.post(
            f"/api/cases/{workflow_id}/decide", json={"key": "review", "action": "approve"}
        )
    assert state
    assert case["pending"] is None
    assert "approved by ops-2: buyer checked by phone" in str(case["timeline"])
    assert "was already approved by ops-2" in again.json()["message"]
    assert [(who, outcome) for who, outcome, _ in attempts(console, workflow_id)] == [
        ("ops-2", "accepted"),
        ("ops-2", "refused"),
    ]
    async with console.api("view-1") as api:
        timeline = (await api.get(f"/api/audit/{workflow_id}")).json()
        csv = await api.get(f"/api/audit/{workflow_id}", params={"format": "csv"})
        missing = await api.get("/api/audit/order-storefront-SF0")
    decisions = [(e["who"], e["outcome"]) for e in timeline if e["kind"] == "decision"]
    assert decisions == [("ops-2", "accepted"), ("ops-2", "refused")]
    assert any(e["kind"] == "partner_call" for e in timeline)
    assert csv.headers["content-type"].startswith("text/csv") and "ops-2" in csv.text
    assert missing.status_code == 404


async def test_cancel_and_address_correction_keep_the_orders_rules(console: Console) -> None:
    workflow_id = await order_in_review(console)
    cancel = f"/api/cases/{workflow_id}/cancel"
    async with console.api("fin-1") as finance, console.api("ops-1") as ops:
        refused = await finance.post(cancel, json={"reason": "duplicate order"})
        empty = await ops.post(cancel, json={"reason": ""})
        address = await ops.post(
            f"/api/cases/{workflow_id}/address",
            json={
                "address": {
                    "name": "Parcel desk",
                    "line1": "1 Dock Road",
                    "city": "Lyon",
                    "country": "FR",
                }
            },
        )
        accepted = await ops.post(cancel, json={"reason": "duplicate order"})
        inspect = await ops.post(
            f"/api/cases/{workflow_id}/inspect",
            json={"lines": [{"sku": "X", "verdict": "accepted"}]},
        )
    assert "role finance may not cancel orders" in refused.json()["message"]
    assert empty.status_code == 422  # the body itself is invalid: FastAPI names the field
    assert accepted.status_code == 200 and accepted.json()["result"]["accepted_in_state"]
    assert inspect.status_code == 400 and "does not take 'inspect'" in inspect.json()["message"]
    # Before shipment an address is corrected within its country only (duties, customs).
    assert address.status_code == 409 and "country FR is not" in address.json()["message"]
    await wait_for_state(console, workflow_id, {OrderState.CANCELLED})


async def test_an_order_held_in_review_waits_after_approval_until_resumed(
    console: Console,
) -> None:
    workflow_id = await order_in_review(console)
    case = f"/api/cases/{workflow_id}"
    async with console.api("ops-1") as ops, console.api("view-1") as viewer:
        by_viewer = await viewer.post(f"{case}/hold", json={"reason": "buyer called"})
        held = await ops.post(f"{case}/hold", json={"reason": "buyer called"})
        await ops.post(
            f"{case}/decide", json={"key": "review", "action": "approve", "reason": "checked"}
        )
        await asyncio.sleep(1.0)  # approved, but held: it must not move on
        while_held = (await ops.get(case)).json()["status"]["state"]
        resumed = await ops.post(f"{case}/resume", json={"reason": "address confirmed"})
        again = await ops.post(f"{case}/resume", json={})
    assert (
        by_viewer.status_code == 409 and "role viewer may not hold" in by_viewer.json()["message"]
    )
    assert held.status_code == 200 and held.json()["result"]["held"] is True
    assert while_held == OrderState.APPROVED
    assert resumed.status_code == 200
    assert again.status_code == 409 and "not held" in again.json()["message"]
    moved_on = set(OrderState) - {OrderState.IN_REVIEW, OrderState.APPROVED, OrderState.CANCELLED}
    await wait_for_state(console, workflow_id, {str(state) for state in moved_on})


async def test_large_refunds_need_finance_and_another_person(console: Console) -> None:
    maker = Principal(id="ops-1", role=Role.OPERATOR)
    workflow_id = await large_return(console, requested_by=maker)
    async with console.api("view-1") as api:
        case = (await api.get(f"/api/cases/{workflow_id}")).json()
    pending = case["pending"]
    body = {"key": pending["key"], "action": "approve", "option": pending["options"][0]}
    decide = f"/api/cases/{workflow_id}/decide"
    async with console.api("ops-1") as ops1, console.api("ops-2") as ops2:
        by_maker = await ops1.post(decide, json=body)
        by_operator = await ops2.post(decide, json=body)
    async with console.api("fin-1") as finance:
        by_finance = await finance.post(decide, json={**body, "reason": "photos show damage"})
    assert "ops-1 requested" in by_maker.json()["message"]
    assert "maker ≠ checker" in by_maker.json()["message"]
    assert "needs role finance or admin" in by_operator.json()["message"]
    assert by_finance.status_code == 200, by_finance.text
    assert [(who, outcome) for who, outcome, _ in attempts(console, workflow_id)] == [
        ("ops-1", "refused"),
        ("ops-2", "refused"),
        ("fin-1", "accepted"),
    ]
    # The label goes out, the parcel comes back (carrier webhooks through intake), and
    # the warehouse's verdict is recorded through the console.
    await case_state(console, workflow_id, "received")
    lines = [{"sku": "WALLET-LEATHER", "verdict": "partial", "refund_percent": 50}]
    inspect = f"/api/cases/{workflow_id}/inspect"
    async with console.api("fin-1") as finance, console.api("ops-2") as ops2:
        by_finance = await finance.post(inspect, json={"lines": lines})
        wrong_sku = await ops2.post(inspect, json={"lines": [{**lines[0], "sku": "MUG"}]})
        inspected = await ops2.post(inspect, json={"lines": lines})
    assert "role finance may not inspect returns" in by_finance.json()["message"]
    assert wrong_sku.status_code == 409 and "MUG" in wrong_sku.json()["message"]
    assert inspected.status_code == 200, inspected.text
    assert inspected.json()["result"]["refund"]["currency"] == "EUR"


async def test_a_dispute_is_contested_by_someone_other_than_its_evidence_editor(
    console: Console,
) -> None:
    order = await delivered_order(console)
    workflow_id = await open_dispute(console, order, "product_not_received")
    evidence = f"/api/cases/{workflow_id}/evidence"
    decide = f"/api/cases/{workflow_id}/decide"
    async with console.api("view-1") as viewer, console.api("ops-1") as ops1:
        case = (await viewer.get(f"/api/cases/{workflow_id}")).json()
        unknown = await ops1.post(evidence, json={"fields": {"favourite_colour": "blue"}})
        edited = await ops1.post(
            evidence, json={"fields": {"uncategorized_text": "buyer confirmed receipt"}}
        )
        key = case["pending"]["key"]
        by_editor = await ops1.post(decide, json={"key": key, "action": "approve"})
    async with console.api("ops-2") as ops2:
        contested = await ops2.post(decide, json={"key": key, "action": "approve"})
    assert case["summary"]["kind"] == "dispute" and "evidence" in case["actions"]
    assert unknown.status_code == 400 and "favourite_colour" in unknown.json()["message"]
    assert edited.status_code == 200, edited.text
    assert "uncategorized_text" in edited.json()["result"]["fields"]
    assert "ops-1 edited the evidence and may not also approve" in by_editor.json()["message"]
    assert contested.status_code == 200, contested.text
    assert [(who, outcome) for who, outcome, _ in attempts(console, workflow_id)] == [
        ("ops-1", "accepted"),
        ("ops-1", "refused"),
        ("ops-2", "accepted"),
    ]


async def test_inbox_freshness_and_approval_round_trip(console: Console) -> None:
    """The figures the README quotes: how soon an approval the workflow opened shows in
    the inbox, and how long an approval takes from the operator's POST to the answer."""
    order = eur_order(NEAR_MISS_BUYERS[1])
    loop = asyncio.get_running_loop()
    async with console.api("ops-1") as api:
        await place(console.stack.sandbox, order)
        seen_at = None
        for _ in range(600):
            inbox = (await api.get("/api/inbox")).json()
            item = next((i for i in inbox if i["workflow_id"] == order.workflow_id), None)
            if item is not None:
                seen_at = datetime.now(UTC)
                break
            await asyncio.sleep(0.02)
        assert item is not None and seen_at is not None
        opened_at = datetime.fromisoformat(item["approval"]["opened_at"])
        freshness = (seen_at - opened_at).total_seconds()
        started = loop.time()
        answer = await api.post(
            f"/api/cases/{order.workflow_id}/decide",
            json={"key": "review", "action": "approve", "reason": "measured"},
        )
        round_trip = loop.time() - started
    assert answer.status_code == 200, answer.text
    print(f"inbox freshness {freshness:.3f}s, approval round trip {round_trip:.3f}s")
    assert freshness < 1.0, f"the inbox showed the approval {freshness:.3f}s after it opened"
    assert round_trip < 2.0, f"an approval took {round_trip:.3f}s"


async def test_a_logged_in_operator_decodes_in_the_temporal_ui_with_the_session_cookie(
    console: Console,
) -> None:
    workflow_id = await order_in_review(console)
    history = await console.stack.client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    encoded = {"payloads": [MessageToDict(started)]}
    # The Temporal UI's fetch sends its own origin, which the codec server accepts.
    ui = {"Origin": console.stack.settings.temporal_ui_origins[0]}
    async with httpx.AsyncClient(base_url=console.url, timeout=30) as browser:
        anonymous = await browser.post("/codec/decode", json=encoded, headers=ui)
        form = (await browser.get("/console/login")).text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        login = await browser.post(
            "/console/login",
            data={"account_id": "ops-1", "password": PASSWORD, "csrf": csrf},
            headers={"Origin": console.url},
        )
        decoded = await browser.post("/codec/decode", json=encoded, headers=ui)
    assert anonymous.status_code == 401
    assert login.status_code == 303 and "crossdock_session" in browser.cookies
    assert decoded.status_code == 200
    data = base64.b64decode(decoded.json()["payloads"][0]["data"])
    assert workflow_id.removeprefix("order-storefront-").encode() in data
    # The payload names its workflow, so the audit says whose data ops-1 decrypted.
    assert ("ops-1", "accepted", "") in attempts(console, workflow_id)
