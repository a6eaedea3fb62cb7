"""Amazon Selling Partner API, Feeds v2021-06-30, for the order acknowledgement feed
(POST_ORDER_ACKNOWLEDGEMENT_DATA): how a seller cancels an order, or some of its items.

    POST /amazon/feeds/2021-06-30/documents            createFeedDocument -> {feedDocumentId, url}
    PUT  {url}                                         upload the XML (the presigned S3 URL)
    POST /amazon/feeds/2021-06-30/feeds                createFeed -> 202 {feedId}
    GET  /amazon/feeds/2021-06-30/feeds/{feedId}       getFeed: processingStatus, resultFeedDocumentId
    GET  /amazon/feeds/2021-06-30/documents/{id}       getFeedDocument -> {feedDocumentId, url}
    GET  {url}                                         download (the processing report)

An acknowledgement with StatusCode Failure cancels the listed items (each with a
CancelReason); when no item is left the order is Canceled. The sandbox processes a feed as soon as it is created (Amazon takes minutes),
so getFeed already answers DONE. Each message gets a Result in the XML processing report:
an unknown order or item, a bad CancelReason or a shipped item is an Error and changes
nothing; items already canceled are a Warning (a resubmitted feed cancels nothing twice).
Every item canceled is one ledger entry (partner amazon, kind seller_cancellation).
"""  # noqa: E501

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from crossdock.sandbox._routes import Refusal
from crossdock.sandbox.amazon_orders import AmazonOrders, OrderRecord, invalid, iso, sp_api_error
from crossdock.sandbox.context import SandboxContext

API = "/amazon/feeds/2021-06-30"
UPLOADS = "/amazon/_sandbox/feed-documents"
ACKNOWLEDGEMENT = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
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


def _require_token(
    token: Annotated[str | None, Header(alias="x-amz-access-token")] = None,
) -> None:
    if not token:
        raise Refusal(
            sp_api_error(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The x-amz-access-token header is missing.",
            )
        )


@dataclass
class FeedDocument:
    id: str
    content_type: str
    content: bytes | None = None


@dataclass
class Feed:
    id: str
    feed_type: str
    marketplace_ids: list[str]
    input_document_id: str
    created_at: datetime
    status: str = "IN_QUEUE"
    ended_at: datetime | None = None
    result_document_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        shaped: dict[str, Any] = {
            "feedId": self.id,
            "feedType": self.feed_type,
            "marketplaceIds": self.marketplace_ids,
            "createdTime": iso(self.created_at),
            "processingStatus": self.status,
        }
        if self.ended_at is not None:
            shaped["processingStartTime"] = iso(self.created_at)
            shaped["processingEndTime"] = iso(self.ended_at)
        if self.result_document_id is not None:
            shaped["resultFeedDocumentId"] = self.result_document_id
        return shaped


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


class CreateFeedDocumentSpecification(BaseModel):
    contentType: str = Field(min_length=1)


class CreateFeedSpecification(BaseModel):
    feedType: str = Field(min_length=1)
    marketplaceIds: list[str] = Field(min_length=1)
    inputFeedDocumentId: str = Field(min_length=1)
    feedOptions: dict[str, str] | None = None


class AmazonFeeds:
    """Feed documents and feeds of one seller; acknowledgements act on `orders`."""

    def __init__(self, orders: AmazonOrders, ctx: SandboxContext) -> None:
        self.orders, self.ctx = orders, ctx
        self.documents: dict[str, FeedDocument] = {}
        self.feeds: dict[str, Feed] = {}
        self._ids = itertools.count(50001)

    def document(self, document_id: str) -> FeedDocument:
        found = self.documents.get(document_id)
        if found is None:
            raise Refusal(sp_api_error(404, "NotFound", f"feedDocumentId {document_id!r}"))
        return found

    def new_document(self, content_type: str, content: bytes | None = None) -> FeedDocument:
        document_id = f"amzn1.tortuga.4.eu.{next(self._ids):08d}.T1SANDBOX"
        found = self.documents[document_id] = FeedDocument(document_id, content_type, content)
        return found

    def create_feed(self, spec: CreateFeedSpecification) -> Feed:
        if spec.feedType != ACKNOWLEDGEMENT:
            raise invalid(f"feedType {spec.feedType!r}: this sandbox only takes {ACKNOWLEDGEMENT}")
        document = self.document(spec.inputFeedDocumentId)
        if document.content is None:
            raise invalid(
                f"inputFeedDocumentId {spec.inputFeedDocumentId!r} has no content: upload the "
                "feed to its url first"
            )
        feed = Feed(
            str(next(self._ids)),
            spec.feedType,
            spec.marketplaceIds,
            document.id,
            datetime.now(UTC),
        )
        self.feeds[feed.id] = feed
        self._process(feed, document.content)
        return feed

    def _process(self, feed: Feed, content: bytes) -> None:
        try:
            root = ET.fromstring(content)
        except ET.ParseError as error:
            feed.status, feed.ended_at = "FATAL", datetime.now(UTC)
            report = Report()
            report.add(MessageResult("0", "Error", BAD_VALUE, f"not well-formed XML: {error}"))
            feed.result_document_id = self._report(feed, report).id
            return
        report = Report()
        for message in root.findall("Message"):
            report.processed += 1
            self._acknowledge(feed, message, report)
        feed.status, feed.ended_at = "DONE", datetime.now(UTC)
        feed.result_document_id = self._report(feed, report).id

    def _acknowledge(self, feed: Feed, message: ET.Element, report: Report) -> None:
        message_id = message.findtext("MessageID") or "0"
        ack = message.find("OrderAcknowledgement")
        order_id = ack.findtext("AmazonOrderID") if ack is not None else None
        try:
            if ack is None or not order_id:
                raise MessageRefused(BAD_VALUE, "OrderAcknowledgement/AmazonOrderID is required")
            if ack.findtext("StatusCode") not in ("Success", "Failure"):
                raise MessageRefused(BAD_VALUE, "StatusCode must be Success or Failure")
            if ack.findtext("StatusCode") == "Failure":
                record = self._order(order_id)
                canceled = cancel_items(record, _requested(ack, record))
                for item_id, reason in canceled.items():
                    self.ctx.ledger.record(
                        partner="amazon",
                        kind="seller_cancellation",
                        reference=order_id,
                        feed_id=feed.id,
                        order_item_id=item_id,
                        cancel_reason=reason,
                    )
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
        except MessageRefused as refused:
            report.add(
                MessageResult(
                    message_id, "Error", refused.message_code, refused.description, order_id
                )
            )

    def _order(self, order_id: str) -> OrderRecord:
        record = self.orders.orders.get(order_id)
        if record is None:
            raise MessageRefused(UNKNOWN_ORDER, f"AmazonOrderID {order_id} was not found")
        return record

    def _report(self, feed: Feed, report: Report) -> FeedDocument:
        content = processing_report(feed.id, report)
        return self.new_document("text/xml; charset=UTF-8", content)


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


def _document_url(request: Request, document_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{UPLOADS}/{document_id}"


def _feed_routes(router: APIRouter, feeds: AmazonFeeds) -> None:
    auth = [Depends(_require_token)]

    @router.post(f"{API}/documents", status_code=201, dependencies=auth)
    async def create_feed_document(spec: CreateFeedDocumentSpecification, request: Request) -> Any:
        """createFeedDocument: a document id and the presigned URL to upload it to."""
        document = feeds.new_document(spec.contentType)
        return {"feedDocumentId": document.id, "url": _document_url(request, document.id)}

    @router.post(f"{API}/feeds", status_code=202, dependencies=auth)
    async def create_feed(spec: CreateFeedSpecification) -> Any:
        """createFeed: queue the uploaded document for processing."""
        return {"feedId": feeds.create_feed(spec).id}

    @router.get(f"{API}/feeds/{{feed_id}}", dependencies=auth)
    async def get_feed(feed_id: str) -> Any:
        """getFeed: processing status and, once done, the report's document id."""
        feed = feeds.feeds.get(feed_id)
        if feed is None:
            raise Refusal(sp_api_error(404, "NotFound", f"feedId {feed_id!r} was not found"))
        return feed.as_json()

    @router.get(f"{API}/documents/{{document_id}}", dependencies=auth)
    async def get_feed_document(document_id: str, request: Request) -> Any:
        """getFeedDocument: where to download a document (e.g. a processing report)."""
        document = feeds.document(document_id)
        return {"feedDocumentId": document.id, "url": _document_url(request, document.id)}


def _storage_routes(router: APIRouter, feeds: AmazonFeeds) -> None:
    # Stand-ins for the presigned S3 URLs: no SP-API token, as S3 takes none.
    @router.put(f"{UPLOADS}/{{document_id}}")
    async def upload(document_id: str, request: Request) -> Response:
        """Upload a feed's content (once; a presigned URL is for one document)."""
        document = feeds.document(document_id)
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip() != document.content_type.split(";")[0].strip():
            return JSONResponse(
                {"error": f"Content-Type {content_type!r} is not {document.content_type!r}"},
                status_code=400,
            )
        document.content = await request.body()
        return Response(status_code=200)

    @router.get(f"{UPLOADS}/{{document_id}}")
    async def download(document_id: str) -> Response:
        """Download a document's content."""
        document = feeds.document(document_id)
        return Response(document.content or b"", media_type=document.content_type)


def add_routes(router: APIRouter, orders: AmazonOrders, ctx: SandboxContext) -> None:
    """Add the Feeds routes to the Amazon router (acknowledgements act on `orders`)."""
    feeds = AmazonFeeds(orders, ctx)
    _feed_routes(router, feeds)
    _storage_routes(router, feeds)
