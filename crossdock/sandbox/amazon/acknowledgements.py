"""Order acknowledgements, as the Amazon sandbox's feeds process them: each message of an
OrderAcknowledgement feed cancels items of an order (StatusCode Failure, a CancelReason
per item) or is a Result (Error or Warning) in the feed's XML processing report. The
Feeds API calls are in `amazon/feeds.py`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crossdock.sandbox.amazon.orders import AmazonOrders, OrderRecord

# OrderAcknowledgement.xsd CancelReason values.
CANCEL_REASONS = frozenset(
    {
        "NoInventory",
        "ShippingAddressUndeliverable",
        "CustomerExchange",
        "BuyerCanceled",
        "GeneralAdjustment",
        "CarrierCreditDecision",
        "RiskAssessmentInformationNotValid",
        "CarrierCoverageFailure",
        "CustomerReturn",
        "MerchandiseNotReceived",
    }
)
# Result message codes of this simulator (Amazon's own codes are not published per case).
UNKNOWN_ORDER, UNKNOWN_ITEM, BAD_VALUE, ALREADY_SHIPPED, ALREADY_CANCELED = (
    18001,
    18002,
    18003,
    18004,
    18005,
)


@dataclass
class MessageResult:
    message_id: str
    code: str  # Error | Warning
    message_code: int
    description: str
    order_id: str | None = None


@dataclass
class Report:
    processed: int = 0
    results: list[MessageResult] = field(default_factory=list)

    def add(self, result: MessageResult) -> None:
        self.results.append(result)


class MessageRefused(Exception):
    def __init__(self, message_code: int, description: str) -> None:
        super().__init__(description)
        self.message_code, self.description = message_code, description


def acknowledge(orders: AmazonOrders, message: ET.Element, report: Report) -> dict[str, str]:
    """Apply one Message; returns {AmazonOrderItemCode: CancelReason} canceled by it."""
    message_id = message.findtext("MessageID") or "0"
    ack = message.find("OrderAcknowledgement")
    order_id = ack.findtext("AmazonOrderID") if ack is not None else None
    try:
        if ack is None or not order_id:
            raise MessageRefused(BAD_VALUE, "OrderAcknowledgement/AmazonOrderID is required")
        if ack.findtext("StatusCode") not in ("Success", "Failure"):
            raise MessageRefused(BAD_VALUE, "StatusCode must be Success or Failure")
        if ack.findtext("StatusCode") == "Success":
            return {}
        record = orders.orders.get(order_id)
        if record is None:
            raise MessageRefused(UNKNOWN_ORDER, f"AmazonOrderID {order_id} was not found")
        canceled = cancel_items(record, _requested(ack, record))
    except MessageRefused as refused:
        report.add(
            MessageResult(message_id, "Error", refused.message_code, refused.description, order_id)
        )
        return {}
    if not canceled:
        report.add(
            MessageResult(
                message_id,
                "Warning",
                ALREADY_CANCELED,
                "the items are already canceled; nothing changed",
                order_id,
            )
        )
    return canceled


def _requested(ack: ET.Element, record: OrderRecord) -> dict[str, str]:
    """{AmazonOrderItemCode: CancelReason} of the message's items."""
    items = ack.findall("Item")
    if not items:
        raise MessageRefused(BAD_VALUE, "a Failure acknowledgement lists the Items it cancels")
    requested: dict[str, str] = {}
    for index, item in enumerate(items):
        code = item.findtext("AmazonOrderItemCode") or ""
        reason = item.findtext("CancelReason") or ""
        if not any(known.order_item_id == code for known in record.items):
            raise MessageRefused(
                UNKNOWN_ITEM,
                f"Item[{index}]/AmazonOrderItemCode {code!r} is not an item of order {record.id}",
            )
        _check_reason(reason, f"Item[{index}]/")
        requested[code] = reason
    return requested


def _check_reason(reason: str, where: str) -> None:
    if reason not in CANCEL_REASONS:
        raise MessageRefused(
            BAD_VALUE,
            f"{where}CancelReason {reason!r} must be one of {', '.join(sorted(CANCEL_REASONS))}",
        )


def cancel_items(record: OrderRecord, requested: dict[str, str]) -> dict[str, str]:
    """Cancel the requested items (all or none); returns those canceled now."""
    items = {item.order_item_id: item for item in record.items}
    for item_id in requested:
        if items[item_id].shipped:
            raise MessageRefused(
                ALREADY_SHIPPED,
                f"AmazonOrderItemCode {item_id} has shipped and cannot be canceled",
            )
    canceled = {}
    for item_id, reason in requested.items():
        if items[item_id].seller_cancel_reason is None:
            items[item_id].seller_cancel_reason = reason
            canceled[item_id] = reason
    if canceled:
        if all(item.seller_cancel_reason is not None for item in record.items):
            record.status = "Canceled"
        record.last_update = datetime.now(UTC)
    return canceled


def processing_report(feed_id: str, report: Report) -> bytes:
    """The feed processing report, in Amazon's XML envelope."""
    envelope = ET.Element("AmazonEnvelope")
    header = ET.SubElement(envelope, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.02"
    ET.SubElement(header, "MerchantIdentifier").text = "CROSSDOCK_SANDBOX"
    ET.SubElement(envelope, "MessageType").text = "ProcessingReport"
    message = ET.SubElement(envelope, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    body = ET.SubElement(message, "ProcessingReport")
    ET.SubElement(body, "DocumentTransactionID").text = feed_id
    ET.SubElement(body, "StatusCode").text = "Complete"
    errors = {r.message_id for r in report.results if r.code == "Error"}
    warnings = {r.message_id for r in report.results if r.code == "Warning"}
    summary = ET.SubElement(body, "ProcessingSummary")
    for name, value in (
        ("MessagesProcessed", report.processed),
        ("MessagesSuccessful", report.processed - len(errors)),
        ("MessagesWithError", len(errors)),
        ("MessagesWithWarning", len(warnings)),
    ):
        ET.SubElement(summary, name).text = str(value)
    for result in report.results:
        shaped = ET.SubElement(body, "Result")
        ET.SubElement(shaped, "MessageID").text = result.message_id
        ET.SubElement(shaped, "ResultCode").text = result.code
        ET.SubElement(shaped, "ResultMessageCode").text = str(result.message_code)
        ET.SubElement(shaped, "ResultDescription").text = result.description
        if result.order_id:
            info = ET.SubElement(shaped, "AdditionalInfo")
            ET.SubElement(info, "AmazonOrderID").text = result.order_id
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(envelope)
