"""Log lines are JSON with Temporal's ids as fields, and mask personal data and secrets."""

from __future__ import annotations

import io
import json
import logging

import structlog

from crossdock.logs import MASK, configure_logging


def test_records_are_json_with_ids_and_no_personal_data_or_secrets() -> None:
    out = io.StringIO()
    configure_logging("INFO", process="worker", stream=out)
    try:
        structlog.get_logger("test").info(
            "label_bought",
            order="order-amazon-1",
            buyer_email="ada@example.com",
            ship_to={"line1": "1 Secret Lane", "country": "DE"},
            api_key="sk_live_abc",
        )
        # How Temporal's activity.logger hands its ids over: `extra`.
        logging.getLogger("temporalio.activity").info(
            "refund_sent",
            extra={
                "temporal_activity": {"activity_id": "7", "workflow_id": "order-x"},
                "authorization": "Bearer t0ken",
            },
        )
    finally:
        configure_logging("INFO")
        structlog.contextvars.clear_contextvars()
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["event"] == "label_bought" and first["process"] == "worker"
    assert first["buyer_email"] == MASK and first["api_key"] == MASK
    assert first["ship_to"] == {"line1": MASK, "country": "DE"}
    assert second["temporal_activity"] == {"activity_id": "7", "workflow_id": "order-x"}
    text = out.getvalue()
    for planted in ("ada@example.com", "Secret Lane", "sk_live_abc", "t0ken"):
        assert planted not in text
