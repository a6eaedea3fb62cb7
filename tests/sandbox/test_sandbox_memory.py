"""Partners that remember: every partner family's records outlive a restart of the sandbox.

Each test serves a sandbox over real HTTP on a database file, makes records, stops it
(its lifespan ends, as Ctrl-C would), starts a new sandbox on the same file and reads or
acts on what the first one made.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from crossdock.models.order import Channel
from crossdock.money import Money
from crossdock.partners.amazon_feeds import DONE, AmazonFeedsClient
from crossdock.partners.amazon_returns import PAYMENT_ADJUSTMENT, AdjustedItem, payment_adjustment
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.core.store import StoreError
from tests.factories import order
from tests.sandbox.test_carrier import shipment
from tests.sandbox.test_customs import consignment
from tests.sandbox.test_mail import message
from tests.sandbox.test_suppliers import body as rma_body
from tests.servers import serve

STRIPE = {"Authorization": "Bearer sk_test_memory"}
EASYPOST = {"Authorization": "Bearer EZTK_memory"}
AMAZON = {"x-amz-access-token": "Atza|memory"}
EBAY = {"Authorization": "Bearer v^1.1#memory"}
POST_ORDER = {"Authorization": "IAF v^1.1#memory"}
_numbers = itertools.count(1)


@contextmanager
def sandbox(database: Path, **config: Any) -> Iterator[httpx.Client]:
    """A sandbox on `database`, served on a free port, with a client for it."""
    settings = SandboxConfig(database=database, warehouse_restock_seconds=0, **config)
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield http


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def ledger(http: httpx.Client, **query: str) -> list[dict[str, Any]]:
    return list(http.get("/_sandbox/ledger", params=query).json())


def test_a_payment_authorized_before_a_restart_is_captured_and_refunded_after_it(
    tmp_path: Path,
) -> None:
    database = tmp_path / "sandbox.db"
    create = {"amount": "2500", "currency": "eur", "capture_method": "manual"}
    create |= {"confirm": "true", "payment_method": "pm_card_visa", "metadata[order]": "M1"}
    keyed = {**STRIPE, "Idempotency-Key": "order-M1/authorize"}
    with sandbox(database) as stripe:
        intent = ok(stripe.post("/stripe/v1/payment_intents", data=create, headers=keyed))
    assert intent["status"] == "requires_capture"

    with sandbox(database) as stripe:
        again = stripe.post("/stripe/v1/payment_intents", data=create, headers=keyed)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert ok(again)["id"] == intent["id"]
        path = f"/stripe/v1/payment_intents/{intent['id']}"
        captured = ok(stripe.post(f"{path}/capture", headers=STRIPE))
        refund = ok(
            stripe.post(
                "/stripe/v1/refunds",
                data={"payment_intent": intent["id"], "amount": "1000"},
                headers=STRIPE,
            )
        )
        dispute = ok(
            stripe.post("/stripe/_sandbox/disputes", json={"payment_intent": intent["id"]})
        )
    assert (captured["status"], captured["amount_received"]) == ("succeeded", 2500)

    with sandbox(database) as stripe:
        assert (
            ok(stripe.get(f"/stripe/v1/refunds/{refund['id']}", headers=STRIPE))["amount"] == 1000
        )
        answered = stripe.post(
            f"/stripe/v1/disputes/{dispute['id']}",
            data={"evidence[product_description]": "A mug", "submit": "true"},
            headers=STRIPE,
        )
        assert ok(answered)["status"] == "under_review"
        kinds = [e["kind"] for e in ledger(stripe, partner="stripe", reference=intent["id"])]
        seqs = [e["seq"] for e in ledger(stripe)]
    assert kinds == ["authorization", "capture", "refund"]
    assert seqs == sorted(set(seqs)), "ledger numbers continue across restarts"


def test_labels_and_trackers_resume_where_they_were(tmp_path: Path) -> None:
    database = tmp_path / "sandbox.db"
    with sandbox(database, tracking_step_seconds=3600) as easypost:
        created = ok(
            easypost.post("/easypost/v2/shipments", json=shipment(), headers=EASYPOST), 201
        )
        rate = {"id": created["rates"][0]["id"]}
        bought = ok(
            easypost.post(
                f"/easypost/v2/shipments/{created['id']}/buy", json={"rate": rate}, headers=EASYPOST
            )
        )
        address = ok(
            easypost.post(
                "/easypost/v2/addresses",
                json={"address": shipment()["shipment"]["to_address"]},
                headers=EASYPOST,
            ),
            201,
        )
    tracker_id = bought["tracker"]["id"]

    # Restarted with fast steps: the parcel goes on from its first scan, not from scratch.
    with sandbox(database, tracking_step_seconds=0.05) as easypost:
        assert ok(easypost.get(f"/easypost/v2/addresses/{address['id']}", headers=EASYPOST))
        for _ in range(100):
            tracker = ok(easypost.get(f"/easypost/v2/trackers/{tracker_id}", headers=EASYPOST))
            if tracker["status"] == "delivered":
                break
            asyncio.run(asyncio.sleep(0.05))
    assert tracker["status"] == "delivered"
    scans = [detail["status"] for detail in tracker["tracking_details"]]
    assert scans[0] == "pre_transit" and scans.count("pre_transit") == 1

    with sandbox(database, tracking_step_seconds=0.05) as easypost:
        again = ok(easypost.get(f"/easypost/v2/trackers/{tracker_id}", headers=EASYPOST))
        refund = easypost.post(f"/easypost/v2/shipments/{created['id']}/refund", headers=EASYPOST)
    assert again["tracking_details"] == tracker["tracking_details"]
    assert refund.status_code == 422, "a scanned label stays unrefundable after a restart"


def test_an_amazon_feed_id_can_be_read_after_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "sandbox.db"
    order_id = f"306-{next(_numbers):07d}-5555555"
    placed = order(channel=Channel.AMAZON, channel_order_id=order_id)
    with sandbox(database) as amazon:
        body = ok(amazon.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json")), 201)
        item = body["OrderItems"][0]["OrderItemId"]

    async def submit(url: str) -> str:
        async with httpx.AsyncClient() as http:
            feeds = AmazonFeedsClient(f"{url}/amazon", "Atza|t", "A1PA6795UKMFR9", http=http)
            refund = [
                AdjustedItem(order_item_id=item, principal=Money(amount=1800, currency="EUR"))
            ]
            return await feeds.submit(
                PAYMENT_ADJUSTMENT,
                payment_adjustment(order_id, f"return-{order_id}/refund", refund),
            )

    with sandbox(database) as amazon:
        feed_id = asyncio.run(submit(str(amazon.base_url).rstrip("/")))

    with sandbox(database) as amazon:
        feed = ok(amazon.get(f"/amazon/feeds/2021-06-30/feeds/{feed_id}", headers=AMAZON))
        listed = ok(amazon.get(f"/amazon/orders/v0/orders/{order_id}", headers=AMAZON))
        refunds = ledger(amazon, partner="amazon", kind="refund", reference=order_id)
        second = asyncio.run(submit(str(amazon.base_url).rstrip("/")))
    assert feed["processingStatus"] == DONE
    assert listed["payload"]["AmazonOrderId"] == order_id
    assert [r["amount"] for r in refunds] == [1800]
    assert int(second) > int(feed_id), "feed ids are not handed out twice"


def test_an_ebay_cancellation_requested_before_a_restart_is_approved_after_it(
    tmp_path: Path,
) -> None:
    database = tmp_path / "sandbox.db"
    order_id = f"15-{next(_numbers):05d}-33333"
    placed = order(channel=Channel.EBAY, channel_order_id=order_id)
    with sandbox(database) as ebay:
        ok(ebay.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json")), 201)
        asked = ok(
            ebay.post(
                f"/ebay/_sandbox/orders/{order_id}/buyer-cancel", json={"reason": "ORDER_MISTAKE"}
            ),
            201,
        )

    with sandbox(database) as ebay:
        found = ok(
            ebay.get(
                "/ebay/post-order/v2/cancellation/search",
                params={"cancel_id": asked["cancelId"]},
                headers=POST_ORDER,
            )
        )
        approved = ebay.post(
            f"/ebay/post-order/v2/cancellation/{asked['cancelId']}/approve", headers=POST_ORDER
        )
    assert [c["cancelId"] for c in found["cancellations"]] == [asked["cancelId"]]
    assert approved.status_code == 200, approved.text

    with sandbox(database) as ebay:
        got = ok(ebay.get(f"/ebay/sell/fulfillment/v1/order/{order_id}", headers=EBAY))
        twice = ebay.post(
            f"/ebay/post-order/v2/cancellation/{asked['cancelId']}/approve", headers=POST_ORDER
        )
    assert got["cancelStatus"]["cancelState"] == "CANCELED"
    assert twice.status_code == 400, "the approval was remembered"


def test_customs_storefront_mail_warehouse_and_suppliers_remember(tmp_path: Path) -> None:
    database = tmp_path / "sandbox.db"
    shop_order = order(channel_order_id=f"SF{next(_numbers):08d}")
    reserve = {
        "reference": "order-M2",
        "lines": [{"line_ref": "L1", "sku": "MUG-STONEWARE", "quantity": 2}],
    }
    with sandbox(database) as http:
        declaration = ok(
            http.post(
                "/customs/v1/declarations",
                json=consignment(reference="order-M2"),
                headers={"Idempotency-Key": "order-M2/declare"},
            ),
            201,
        )
        ok(http.post("/storefront/checkout", json=shop_order.model_dump(mode="json")), 201)
        mail = http.post(
            "/mail/v3/mail/send",
            json=message(),
            headers={"Authorization": "Bearer SG.memory", "Idempotency-Key": "order-M2/notify"},
        )
        assert mail.status_code == 202, mail.text
        reservation = ok(
            http.post(
                "/warehouse/v1/reservations",
                json=reserve,
                headers={"Idempotency-Key": "order-M2/reserve"},
            ),
            201,
        )
        held = ok(http.get("/warehouse/v1/stock/MUG-STONEWARE"))
        rma = ok(
            http.post(
                "/suppliers/v1/sup-highland-mill/rmas",
                json=rma_body(("SCARF-WOOL", 2, "accepted")),
                headers={"Idempotency-Key": "return-M2/rma"},
            ),
            201,
        )

    with sandbox(database) as http:
        filed = ok(http.get(f"/customs/v1/declarations/{declaration['id']}"))
        shop = ok(http.get("/storefront/_sandbox/orders"))
        replayed = http.post(
            "/mail/v3/mail/send",
            json=message(),
            headers={"Authorization": "Bearer SG.memory", "Idempotency-Key": "order-M2/notify"},
        )
        messages = http.get("/mail/_sandbox/messages").json()
        stock = ok(http.get("/warehouse/v1/stock/MUG-STONEWARE"))
        released = ok(
            http.post(
                f"/warehouse/v1/reservations/{reservation['id']}/release",
                headers={"Idempotency-Key": "order-M2/release"},
            )
        )
        credited = ok(http.get(f"/suppliers/v1/sup-highland-mill/rmas/{rma['id']}"))
    assert filed["mrn"] == declaration["mrn"]
    assert [o["order_id"] for o in shop["orders"]] == [shop_order.channel_order_id]
    assert replayed.headers["X-Message-Id"] == mail.headers["X-Message-Id"]
    assert len(messages) == 1
    assert (stock["available"], stock["reserved"]) == (held["available"], held["reserved"])
    assert released["status"] == "released"
    assert credited["status"] == rma["status"]


def test_a_record_that_no_longer_fits_its_type_stops_the_start_naming_it(
    tmp_path: Path,
) -> None:
    database = tmp_path / "sandbox.db"
    with sandbox(database) as http:
        ok(http.post("/customs/v1/landed-cost", json=consignment()))
    with sqlite3.connect(database) as db:
        db.execute("UPDATE records SET body = '{\"quote_id\": 7}' WHERE kind = 'quote'")

    named = r"customs/quote/lcq_\w+ no longer matches its type .*delete the file"
    with pytest.raises(StoreError, match=named):
        create_app(SandboxConfig(database=database))
