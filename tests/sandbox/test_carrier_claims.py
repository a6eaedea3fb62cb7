"""Carrier claims in the sandbox, in the shape of EasyPost's Claims API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from easypost.easypost_client import EasyPostClient
from easypost.errors.api.invalid_request_error import InvalidRequestError
from fastapi import FastAPI

from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.easypost.carrier import Carrier
from crossdock.sandbox.easypost.routes import build_router
from tests.sandbox.test_carrier import AUTH, STEP, Harness, Receiver
from tests.sandbox.test_official_sdks import CUSTOMS, HAMBURG, PARIS


@pytest.fixture
async def easypost() -> AsyncIterator[Harness]:
    receiver = Receiver()
    config = SandboxConfig(tracking_step_seconds=STEP, seed=7)
    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    carrier = Carrier(SandboxContext(config=config, http=http))
    app = FastAPI()
    app.include_router(build_router(carrier))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/easypost") as client:
        yield Harness(carrier, client, receiver)
    await http.aclose()


EVIDENCE = ["data:application/pdf;base64,JVBERi0xLjQK"]


def claim(tracking_code: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "type": "loss",
        "tracking_code": tracking_code,
        "amount": "36.00",
        "description": "No scan for 10 days after the hub.",
        "email_evidence_attachments": EVIDENCE,
        "invoice_attachments": EVIDENCE,
        **overrides,
    }
    return {k: v for k, v in body.items() if v is not None}


async def insured(h: Harness, amount: str = "100.00", **overrides: Any) -> dict[str, Any]:
    """A bought label, insured after the purchase (EasyPost's /insure)."""
    bought = await h.bought(**overrides)
    response = await h.client.post(
        f"/v2/shipments/{bought['id']}/insure", json={"amount": amount}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    assert response.json()["insurance"] == amount
    return bought


async def file(h: Harness, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
    return await h.client.post("/v2/claims", json=body, headers=headers)


def move_on(h: Harness, steps: int) -> None:
    start = max(tracker.last_step_at for tracker in h.carrier.trackers.values())
    for step in range(1, steps + 1):
        h.carrier.advance(start + timedelta(seconds=STEP * step))


async def test_a_loss_claim_is_submitted_and_recorded_once(easypost: Harness) -> None:
    lost = await insured(easypost, options={"sandbox_scenario": "lost"})
    move_on(easypost, 5)

    response = await file(easypost, claim(lost["tracking_code"]), key="order-1:claim")
    replay = await file(easypost, claim(lost["tracking_code"]), key="order-1:claim")

    assert response.status_code == 201, response.text
    filed = response.json()
    assert filed["object"] == "Claim"
    assert filed["id"].startswith("clm_")
    assert (filed["type"], filed["status"]) == ("loss", "submitted")
    assert (filed["requested_amount"], filed["insurance_amount"]) == ("36.00", "100.00")
    assert "currency" not in filed  # EasyPost's claims are US dollars, unnamed
    assert len(filed["attachments"]) == 2
    assert filed["shipment_id"] == lost["id"]
    assert filed["approved_amount"] is None
    assert [h["status"] for h in filed["history"]] == ["submitted"]
    assert replay.json() == filed
    assert replay.headers["Idempotent-Replayed"] == "true"
    [entry] = easypost.ctx.ledger.entries(partner="easypost", kind="claim")
    assert entry.reference == lost["id"]
    assert entry.idempotency_key == "order-1:claim"
    assert (entry.amount, entry.currency) == (3600, "USD")
    assert entry.details["claim_id"] == filed["id"]
    assert entry.details["claim_type"] == "loss"
    got = await easypost.client.get(f"/v2/claims/{filed['id']}", headers=AUTH)
    assert got.json() == filed


async def test_the_key_reused_for_another_claim_is_refused(easypost: Harness) -> None:
    bought = await insured(easypost)
    await file(easypost, claim(bought["tracking_code"]), key="order-1:claim")

    other = await file(
        easypost, claim(bought["tracking_code"], amount="10.00"), key="order-1:claim"
    )

    assert other.status_code == 400
    assert other.json()["error"]["code"] == "IDEMPOTENCY.KEY.REUSED"


async def test_invalid_claims_name_every_field(easypost: Harness) -> None:
    response = await file(easypost, {"type": "misplaced", "amount": "12.345"}, key="k1")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "CLAIM.INVALID_PARAMS"
    fields = {e["field"]: e["message"] for e in error["errors"]}
    assert set(fields) == {
        "type",
        "tracking_code",
        "description",
        "amount",
        "email_evidence_attachments",
        "invoice_attachments",
    }
    assert "'misplaced'" in fields["type"]
    assert "decimal places" in fields["amount"]


@pytest.mark.parametrize("amount", ["0", "-5.00", "1.505"])
async def test_amounts_must_be_positive_us_dollars(easypost: Harness, amount: str) -> None:
    bought = await insured(easypost)

    response = await file(easypost, claim(bought["tracking_code"], amount=amount))

    assert response.status_code == 422
    assert response.json()["error"]["errors"][0]["field"] == "amount"


async def test_a_claim_has_no_currency_parameter(easypost: Harness) -> None:
    bought = await insured(easypost)

    response = await file(easypost, claim(bought["tracking_code"], currency="EUR"))

    assert response.status_code == 422
    assert response.json()["error"]["errors"][0]["field"] == "currency"


async def test_an_uninsured_label_has_no_eligible_insurance(easypost: Harness) -> None:
    bought = await easypost.bought()

    response = await file(easypost, claim(bought["tracking_code"]), key="u1")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No eligible insurance found"


async def test_insurance_bought_with_the_label_makes_it_claimable_up_to_its_amount(
    easypost: Harness,
) -> None:
    shipment = await easypost.create()
    rate = shipment["rates"][0]["id"]
    bought = await easypost.client.post(
        f"/v2/shipments/{shipment['id']}/buy",
        json={"rate": {"id": rate}, "insurance": "50.00"},
        headers=AUTH,
    )
    tracking = bought.json()["tracking_code"]

    too_much = await file(easypost, claim(tracking, amount="50.01"))
    enough = await file(easypost, claim(tracking, amount="50.00"))

    assert bought.json()["insurance"] == "50.00"
    assert (
        too_much.status_code == 422 and too_much.json()["error"]["errors"][0]["field"] == "amount"
    )
    assert enough.status_code == 201
    assert len(easypost.ctx.ledger.entries(kind="insurance")) == 1


async def test_damage_needs_supporting_documents(easypost: Harness) -> None:
    bought = await insured(easypost)

    response = await file(easypost, claim(bought["tracking_code"], type="damage"))

    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["error"]["errors"]]
    assert fields == ["supporting_documentation_attachments"]


async def test_an_unknown_parcel_does_not_burn_the_key(easypost: Harness) -> None:
    bought = await insured(easypost)

    unknown = await file(easypost, claim("EZ404"), key="order-1:claim")
    corrected = await file(easypost, claim(bought["tracking_code"]), key="order-1:claim")

    assert unknown.status_code == 422
    assert unknown.json()["error"]["errors"][0]["field"] == "tracking_code"
    assert corrected.status_code == 201


async def test_a_delivered_parcel_cannot_be_claimed_lost(easypost: Harness) -> None:
    bought = await insured(easypost)
    move_on(easypost, 3)

    lost = await file(easypost, claim(bought["tracking_code"]))
    damaged = await file(
        easypost,
        claim(
            bought["tracking_code"], type="damage", supporting_documentation_attachments=EVIDENCE
        ),
    )

    assert lost.status_code == 422
    assert lost.json()["error"]["code"] == "CLAIM.NOT_ELIGIBLE"
    assert "delivered" in lost.json()["error"]["message"]
    assert damaged.status_code == 201


async def test_a_refunded_label_has_nothing_to_claim(easypost: Harness) -> None:
    bought = await insured(easypost)
    await easypost.client.post(f"/v2/shipments/{bought['id']}/refund", headers=AUTH)

    response = await file(easypost, claim(bought["tracking_code"]))

    assert response.json()["error"]["code"] == "CLAIM.NOT_ELIGIBLE"


async def test_one_standing_claim_per_parcel(easypost: Harness) -> None:
    bought = await insured(easypost)
    first = await file(easypost, claim(bought["tracking_code"]), key="a")

    theft = claim(
        bought["tracking_code"], type="theft", supporting_documentation_attachments=EVIDENCE
    )
    second = await file(easypost, theft, key="b")

    assert second.status_code == 422
    assert second.json()["error"]["code"] == "CLAIM.ALREADY_EXISTS"
    assert first.json()["id"] in second.json()["error"]["message"]
    assert len(easypost.ctx.ledger.entries(kind="claim")) == 1


async def test_claims_need_an_api_key_and_unknown_ones_are_404(easypost: Harness) -> None:
    anonymous = await easypost.client.post("/v2/claims", json=claim("EZ1"))
    missing = await easypost.client.get("/v2/claims/clm_nope", headers=AUTH)

    assert anonymous.status_code == 401
    assert missing.status_code == 404


def test_the_official_sdk_files_a_claim(live_sandbox: str) -> None:
    client = EasyPostClient("EZTK_official_sdk", api_base=f"{live_sandbox}/easypost/v2")
    shipment = client.shipment.create(
        to_address=PARIS, from_address=HAMBURG, parcel={"weight": 30.0}, customs_info=CUSTOMS
    )
    bought = client.shipment.buy(shipment.id, rate=shipment.lowest_rate())
    client.shipment.insure(bought.id, amount="100.00")

    filed = client.claim.create(
        type="damage",
        tracking_code=bought.tracking_code,
        amount="36.00",
        description="Mug arrived in pieces.",
        email_evidence_attachments=EVIDENCE,
        invoice_attachments=EVIDENCE,
        supporting_documentation_attachments=EVIDENCE,
    )
    again = client.claim.retrieve(filed.id)
    with pytest.raises(InvalidRequestError) as refused:
        client.claim.create(
            type="loss",
            tracking_code=bought.tracking_code,
            amount="36.00",
            description="x",
            email_evidence_attachments=EVIDENCE,
            invoice_attachments=EVIDENCE,
        )

    assert (filed.status, filed.type, again.id) == ("submitted", "damage", filed.id)
    assert refused.value.code == "CLAIM.ALREADY_EXISTS"
