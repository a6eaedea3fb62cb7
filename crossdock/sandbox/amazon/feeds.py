"""Amazon Selling Partner API, Feeds v2021-06-30, for the order acknowledgement feed
(POST_ORDER_ACKNOWLEDGEMENT_DATA): how a seller cancels an order, or some of its items.

    POST /amazon/feeds/2021-06-30/documents            createFeedDocument -> {feedDocumentId, url}
    PUT  {url}                                         upload the XML (the presigned S3 URL)
    POST /amazon/feeds/2021-06-30/feeds                createFeed -> 202 {feedId}
    GET  /amazon/feeds/2021-06-30/feeds/{feedId}       getFeed: processingStatus, resultFeedDocumentId
    GET  /amazon/feeds/2021-06-30/documents/{id}       getFeedDocument -> {feedDocumentId, url}
    GET  {url}                                         download (the processing report)

An acknowledgement with StatusCode Failure cancels the listed items (each with a
CancelReason); when no item is left the order is Canceled (`amazon/acknowledgements.py`).
The sandbox processes a feed as soon as it is created (Amazon takes minutes), so getFeed
already answers DONE. Each message gets a Result in the XML processing report:
an unknown order or item, a bad CancelReason or a shipped item is an Error and changes
nothing; items already canceled are a Warning (a resubmitted feed cancels nothing twice).
Every item canceled is one ledger entry (partner amazon, kind seller_cancellation).
"""  # noqa: E501

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Base64Bytes, BaseModel, Field

from crossdock.sandbox.amazon.acknowledgements import (
    BAD_VALUE,
    MessageResult,
    Report,
    acknowledge,
    processing_report,
)
from crossdock.sandbox.amazon.orders import AmazonOrders, invalid, iso, sp_api_error
from crossdock.sandbox.amazon.returns import PAYMENT_ADJUSTMENT, AmazonAdjustments
from crossdock.sandbox.amazon.tokens import require_access_token
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import Table

API = "/amazon/feeds/2021-06-30"
UPLOADS = "/amazon/_sandbox/feed-documents"
ACKNOWLEDGEMENT = "POST_ORDER_ACKNOWLEDGEMENT_DATA"


@dataclass
class FeedDocument:
    id: str
    content_type: str
    content: Base64Bytes | None = None


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
        self.documents: Table[FeedDocument] = ctx.store.table(
            "amazon", "feed_document", FeedDocument
        )
        self.feeds: Table[Feed] = ctx.store.table("amazon", "feed", Feed)
        self._ids = ctx.store.counter("amazon", "feed", 50001)
        # Refunds: the payment adjustment feed (amazon/returns.py).
        self.adjustments = AmazonAdjustments(orders, ctx)

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
        if spec.feedType not in (ACKNOWLEDGEMENT, PAYMENT_ADJUSTMENT):
            raise invalid(
                f"feedType {spec.feedType!r}: this sandbox takes {ACKNOWLEDGEMENT} and "
                f"{PAYMENT_ADJUSTMENT}"
            )
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
            if feed.feed_type == PAYMENT_ADJUSTMENT:
                self.adjustments.apply(feed.id, message, report)
            else:
                self._acknowledge(feed, message, report)
        feed.status, feed.ended_at = "DONE", datetime.now(UTC)
        feed.result_document_id = self._report(feed, report).id

    def _acknowledge(self, feed: Feed, message: ET.Element, report: Report) -> None:
        order_id = message.findtext("OrderAcknowledgement/AmazonOrderID") or ""
        for item_id, reason in acknowledge(self.orders, message, report).items():
            self.ctx.ledger.record(
                partner="amazon",
                kind="seller_cancellation",
                reference=order_id,
                feed_id=feed.id,
                order_item_id=item_id,
                cancel_reason=reason,
            )

    def _report(self, feed: Feed, report: Report) -> FeedDocument:
        content = processing_report(feed.id, report)
        return self.new_document("text/xml; charset=UTF-8", content)


def _document_url(request: Request, document_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{UPLOADS}/{document_id}"


def _feed_routes(router: APIRouter, feeds: AmazonFeeds) -> None:
    auth = [Depends(require_access_token)]

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
