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
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from crossdock.partners.amazon import read_sp_api_error
from crossdock.partners.http import PartnerConnection, send

PARTNER = "amazon"
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
    ET.SubElement(envelope, "MessageType").text = "OrderAcknowledgement"
    message = ET.SubElement(envelope, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    ack = ET.SubElement(message, "OrderAcknowledgement")
    ET.SubElement(ack, "AmazonOrderID").text = order_id
    ET.SubElement(ack, "StatusCode").text = "Failure"
    for item_id, reason in reasons.items():
        item = ET.SubElement(ack, "Item")
        ET.SubElement(item, "AmazonOrderItemCode").text = item_id
        ET.SubElement(item, "CancelReason").text = reason
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(envelope)


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


class AmazonFeedsClient(PartnerConnection):
    """Async client for SP-API Feeds v2021-06-30 in one marketplace.

    Args:
        base_url: API root, e.g. "http://127.0.0.1:8700/amazon".
        access_token: The LWA access token sent as `x-amz-access-token`.
        marketplace_id: The marketplace feeds apply to.
        http: A shared `httpx.AsyncClient` (e.g. the Orders client's pool).
        timeout: Seconds per request.
    """

    def __init__(
        self,
        base_url: str,
        access_token: str,
        marketplace_id: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, http, timeout)
        self._headers = {"x-amz-access-token": access_token, "accept": "application/json"}
        self.marketplace_id = marketplace_id

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await send(
            self._http, PARTNER, method, url, read_sp_api_error, timeout=self._timeout, **kwargs
        )

    async def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self._base}/feeds/2021-06-30{path}"
        return (await self._call(method, url, headers=self._headers, **kwargs)).json()

    async def submit(self, feed_type: str, content: bytes, content_type: str = XML) -> str:
        """Upload `content` as a feed document and create the feed; returns the feedId."""
        document = await self._api("POST", "/documents", json={"contentType": content_type})
        await self._call(
            "PUT", document["url"], content=content, headers={"Content-Type": content_type}
        )
        created = await self._api(
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
        return AmazonFeed.model_validate(await self._api("GET", f"/feeds/{feed_id}"))

    async def processing_report(self, feed: AmazonFeed) -> list[FeedResult]:
        """The Results of a processed feed's report (empty: every message succeeded)."""
        if feed.result_feed_document_id is None:
            return []
        document = await self._api("GET", f"/documents/{feed.result_feed_document_id}")
        content = (await self._call("GET", document["url"])).content
        return read_processing_report(content)
