"""Amazon Selling Partner API adapter, Feeds v2021-06-30: the order acknowledgement feed
(POST_ORDER_ACKNOWLEDGEMENT_DATA), the only way a seller cancels an Amazon order or some
of its items (StatusCode Failure with a CancelReason per item).

Submitting a feed is three calls: createFeedDocument (a document id and a presigned URL),
an upload of the XML to that URL (no SP-API token: it is S3), and createFeed. Amazon then
processes the feed (minutes on the real API); getFeed tells when it is DONE and names the
processing report, an XML document with one Result per message that failed or warned.

The Feeds API takes no idempotency key: a caller that may repeat a submission checks the
order first (`AmazonOrdersClient`), and a resubmitted cancellation cancels nothing twice.
Failures arrive as `crossdock.partners.errors` types, as for the Orders API.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pydantic import BaseModel, ConfigDict, Field

from crossdock.partners.amazon_api import MarketplaceApi

ACKNOWLEDGEMENT = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
XML = "text/xml; charset=UTF-8"
DONE, FATAL, CANCELLED = "DONE", "FATAL", "CANCELLED"


class AmazonFeed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    feed_id: str = Field(alias="feedId")
    feed_type: str = Field(alias="feedType")
    # IN_QUEUE | IN_PROGRESS | DONE | CANCELLED | FATAL
    processing_status: str = Field(alias="processingStatus")
    result_feed_document_id: str | None = Field(default=None, alias="resultFeedDocumentId")


class FeedResult(BaseModel):
    """One Result of a processing report: a message that failed (Error) or warned."""

    message_id: str
    result_code: str  # Error | Warning
    message_code: str
    description: str


def feed_envelope(message_type: str, merchant: str) -> tuple[ET.Element, ET.Element]:
    """An AmazonEnvelope of one message of `message_type` from `merchant` (its
    MerchantIdentifier): the envelope, and the message's `message_type` element to fill."""
    envelope = ET.Element(
        "AmazonEnvelope",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd",
        },
    )
    header = ET.SubElement(envelope, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.01"
    ET.SubElement(header, "MerchantIdentifier").text = merchant
    ET.SubElement(envelope, "MessageType").text = message_type
    message = ET.SubElement(envelope, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    return envelope, ET.SubElement(message, message_type)


def feed_document(envelope: ET.Element) -> bytes:
    """The feed document's bytes, with its XML declaration."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(envelope)


def order_acknowledgement(
    order_id: str, reasons: dict[str, str], merchant: str = "CROSSDOCK"
) -> bytes:
    """An OrderAcknowledgement feed cancelling items of `order_id` (all of them to cancel
    the order).

    Args:
        order_id: The AmazonOrderID.
        reasons: AmazonOrderItemCode -> CancelReason of the items to cancel.
        merchant: The MerchantIdentifier of the envelope.
    """
    if not reasons:
        raise ValueError(f"an acknowledgement cancelling order {order_id} names its items")
    envelope, ack = feed_envelope("OrderAcknowledgement", merchant)
    ET.SubElement(ack, "AmazonOrderID").text = order_id
    ET.SubElement(ack, "StatusCode").text = "Failure"
    for item_id, reason in reasons.items():
        item = ET.SubElement(ack, "Item")
        ET.SubElement(item, "AmazonOrderItemCode").text = item_id
        ET.SubElement(item, "CancelReason").text = reason
    return feed_document(envelope)


def read_processing_report(content: bytes) -> list[FeedResult]:
    """The Results of a processing report (messages that failed or warned)."""
    root = ET.fromstring(content)
    return [
        FeedResult(
            message_id=result.findtext("MessageID") or "",
            result_code=result.findtext("ResultCode") or "",
            message_code=result.findtext("ResultMessageCode") or "",
            description=result.findtext("ResultDescription") or "",
        )
        for result in root.iter("Result")
    ]


class AmazonFeedsClient(MarketplaceApi):
    """Async client for SP-API Feeds v2021-06-30 in one marketplace (`marketplace_id`,
    the marketplace feeds apply to)."""

    root = "/feeds/2021-06-30"

    async def submit(self, feed_type: str, content: bytes, content_type: str = XML) -> str:
        """Upload `content` as a feed document and create the feed; returns the feedId."""
        document = await self._json("POST", "/documents", json={"contentType": content_type})
        await self._document(
            "PUT", document["url"], content=content, headers={"Content-Type": content_type}
        )
        created = await self._json(
            "POST",
            "/feeds",
            json={
                "feedType": feed_type,
                "marketplaceIds": [self.marketplace_id],
                "inputFeedDocumentId": document["feedDocumentId"],
            },
        )
        feed_id: str = created["feedId"]
        return feed_id

    async def get_feed(self, feed_id: str) -> AmazonFeed:
        """getFeed: the feed's processing status."""
        return AmazonFeed.model_validate(await self._json("GET", f"/feeds/{feed_id}"))

    async def processing_report(self, feed: AmazonFeed) -> list[FeedResult]:
        """The Results of a processed feed's report (empty: every message succeeded)."""
        if feed.result_feed_document_id is None:
            return []
        document = await self._json("GET", f"/documents/{feed.result_feed_document_id}")
        content = (await self._document("GET", document["url"])).content
        return read_processing_report(content)
