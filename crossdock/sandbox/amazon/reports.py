"""Amazon Selling Partner API, Reports v2021-06-30, for the returns report of orders the
seller ships itself (GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE): how a seller learns
that a buyer asked to return something.

    POST /amazon/reports/2021-06-30/reports               createReport -> 202 {reportId}
    GET  /amazon/reports/2021-06-30/reports/{reportId}    getReport: processingStatus, reportDocumentId
    GET  /amazon/reports/2021-06-30/documents/{id}        getReportDocument -> {reportDocumentId, url, compressionAlgorithm}
    GET  {url}                                            download (GZIP, tab-separated, a header row)

Buyers ask for returns through the admin route `POST /amazon/_sandbox/orders/{id}/buyer-return`
({"sku", "quantity", "reason": a return reason code such as CR-DEFECTIVE, "comments"}),
only for units already shipped and not asked back before. The report lists one row per
returned item of each request whose Return request date lies in [dataStartTime,
dataEndTime], with the column names of Seller Central's download. A report is taken at
createReport and processes over two getReport calls (IN_QUEUE -> IN_PROGRESS -> DONE), so a
client has to wait for DONE as it must on Amazon, where it takes minutes; a report with no
rows ends CANCELLED, as Amazon's do. Every request is
one ledger entry (partner amazon, kind return_requested).
"""  # noqa: E501

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Base64Bytes, BaseModel, Field

from crossdock.sandbox.amazon.orders import AmazonOrders, ItemRecord, invalid, iso, sp_api_error
from crossdock.sandbox.amazon.tokens import require_access_token
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import RecordStore, Table

API = "/amazon/reports/2021-06-30"
DOWNLOADS = "/amazon/_sandbox/report-documents"
RETURNS_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
# Seller Central's return reason codes for seller-fulfilled orders (the common ones).
RETURN_REASONS = frozenset(
    {
        "CR-DAMAGED_BY_CARRIER",
        "CR-DEFECTIVE",
        "CR-QUALITY_UNACCEPTABLE",
        "AMZ-PG-BAD-DESC",
        "CR-MISSING_PARTS",
        "CR-WRONG_ITEM",
        "CR-SWITCHEROO",
        "CR-UNWANTED_ITEM",
        "CR-ORDERED_WRONG_ITEM",
        "CR-FOUND_BETTER_PRICE",
        "CR-MISSED_ESTIMATED_DELIVERY",
        "AMZ-PG-APP-TOO-SMALL",
        "AMZ-PG-APP-TOO-LARGE",
        "CR-NO_REASON_GIVEN",
    }
)
COLUMNS = (
    "Order ID",
    "Order date",
    "Return request date",
    "Return request status",
    "Amazon RMA ID",
    "Merchant RMA ID",
    "Label type",
    "Label cost",
    "Currency code",
    "Return carrier",
    "Tracking ID",
    "Label to be paid by",
    "A-to-Z Claim",
    "Is prime",
    "ASIN",
    "Merchant SKU",
    "Item Name",
    "Return quantity",
    "Return Reason",
    "In policy",
    "Return type",
    "Resolution",
    "Invoice number",
    "Return delivery date",
    "Order Amount",
    "Order quantity",
    "Refunded Amount",
)
# The seller authorises (and labels) returns itself: requests wait for it.
PENDING = "Pending Authorization"


class BuyerReturn(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(default=1, gt=0)
    reason: str = Field(min_length=1)
    comments: str = Field(default="", max_length=1000)


@dataclass(frozen=True)
class ReturnRow:
    order_id: str
    order_date: datetime
    requested_at: datetime
    rma: str
    item: ItemRecord
    quantity: int
    reason: str
    currency: str
    order_amount: str
    order_quantity: int

    def cells(self) -> dict[str, str]:
        return {
            "Order ID": self.order_id,
            "Order date": iso(self.order_date),
            "Return request date": iso(self.requested_at),
            "Return request status": PENDING,
            "Amazon RMA ID": self.rma,
            "Label type": "SellerLabel",
            "Currency code": self.currency,
            "Label to be paid by": "Seller",
            "A-to-Z Claim": "N",
            "Is prime": "N",
            "ASIN": self.item.asin,
            "Merchant SKU": self.item.sku,
            "Item Name": self.item.title,
            "Return quantity": str(self.quantity),
            "Return Reason": self.reason,
            "In policy": "Y",
            "Return type": "C-Returns",
            "Resolution": "StandardRefund",
            "Order Amount": self.order_amount,
            "Order quantity": str(self.order_quantity),
        }


def flat_file(rows: list[ReturnRow]) -> bytes:
    """The report as Seller Central downloads it: tab-separated, a header row."""
    lines = ["\t".join(COLUMNS)]
    for row in rows:
        cells = row.cells()
        # Tabs and newlines in free text would break the row; Amazon drops them too.
        lines.append("\t".join(" ".join(cells.get(c, "").split()) for c in COLUMNS))
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Report:
    id: str
    report_type: str
    marketplace_ids: list[str]
    start: datetime | None
    end: datetime
    created_at: datetime
    content: Base64Bytes
    rows: int
    status: str = "IN_QUEUE"
    document_id: str | None = None

    def advance(self) -> None:
        """One getReport later: queued reports start, started reports finish."""
        if self.status == "IN_QUEUE":
            self.status = "IN_PROGRESS"
        elif self.status == "IN_PROGRESS" and self.rows == 0:
            self.status = "CANCELLED"  # as Amazon does when there is no data to return
        elif self.status == "IN_PROGRESS":
            self.status = "DONE"
            self.document_id = f"amzn1.spdoc.1.4.eu.{self.id}.T1SANDBOX"

    def as_json(self) -> dict[str, Any]:
        shaped: dict[str, Any] = {
            "reportId": self.id,
            "reportType": self.report_type,
            "marketplaceIds": self.marketplace_ids,
            "dataEndTime": iso(self.end),
            "createdTime": iso(self.created_at),
            "processingStatus": self.status,
        }
        if self.start is not None:
            shaped["dataStartTime"] = iso(self.start)
        if self.status != "IN_QUEUE":
            shaped["processingStartTime"] = iso(self.created_at)
        if self.status in ("DONE", "CANCELLED"):
            shaped["processingEndTime"] = iso(self.created_at)
        if self.document_id is not None:
            shaped["reportDocumentId"] = self.document_id
        return shaped


class CreateReportSpecification(BaseModel):
    reportType: str = Field(min_length=1)
    marketplaceIds: list[str] = Field(min_length=1)
    dataStartTime: datetime | None = None
    dataEndTime: datetime | None = None
    reportOptions: dict[str, str] | None = None


def _second(moment: datetime) -> datetime:
    """As the report prints it: UTC, whole seconds (so filters match what a client read)."""
    return moment.astimezone(UTC).replace(microsecond=0)


class AmazonReturnRequests:
    """Buyers' return requests on the Amazon order book, and the reports listing them."""

    def __init__(self, orders: AmazonOrders, store: RecordStore) -> None:
        self.orders = orders
        # Return requests by their Amazon RMA id.
        self.rows: Table[ReturnRow] = store.table("amazon", "return_request", ReturnRow)
        self.reports: Table[Report] = store.table("amazon", "report", Report)
        self._ids = store.counter("amazon", "report", 60001)

    def open(self, order_id: str, request: BuyerReturn) -> ReturnRow:
        record = self.orders.get(order_id)
        if request.reason not in RETURN_REASONS:
            raise invalid(
                f"reason {request.reason!r} is not one of {', '.join(sorted(RETURN_REASONS))}"
            )
        item = next((i for i in record.items if i.sku == request.sku), None)
        if item is None:
            raise invalid(f"sku {request.sku!r} is not an item of order {order_id}")
        asked = sum(
            r.quantity
            for r in self.rows.peek()
            if r.order_id == order_id and r.item.order_item_id == item.order_item_id
        )
        if request.quantity > item.shipped - asked:
            raise invalid(
                f"quantity {request.quantity} of {request.sku}: {item.shipped} shipped, "
                f"{asked} asked back already"
            )
        number = next(self._ids)
        row = ReturnRow(
            order_id=order_id,
            order_date=record.order.placed_at,
            requested_at=datetime.now(UTC),
            rma="D"
            + hashlib.sha256(f"{order_id}/{number}".encode()).hexdigest()[:8].upper()
            + "RRMA",
            item=item,
            quantity=request.quantity,
            reason=request.reason,
            currency=record.order.currency,
            order_amount=record.order.order_total.to_decimal_string(),
            order_quantity=sum(i.quantity for i in record.items),
        )
        self.rows[row.rma] = row
        return row

    def create_report(self, spec: CreateReportSpecification) -> Report:
        if spec.reportType != RETURNS_REPORT:
            raise invalid(f"reportType {spec.reportType!r}: this sandbox makes {RETURNS_REPORT}")
        end = spec.dataEndTime or datetime.now(UTC)
        start = spec.dataStartTime
        if start is not None and start > end:
            raise invalid(f"dataStartTime {iso(start)} is after dataEndTime {iso(end)}")
        rows = [
            r
            for r in sorted(self.rows.peek(), key=lambda r: r.requested_at)
            if (start is None or _second(r.requested_at) >= _second(start))
            and _second(r.requested_at) <= end
        ]
        report = Report(
            id=str(next(self._ids)),
            report_type=spec.reportType,
            marketplace_ids=spec.marketplaceIds,
            start=start,
            end=end,
            created_at=datetime.now(UTC),
            content=gzip.compress(flat_file(rows)),
            rows=len(rows),
        )
        self.reports[report.id] = report
        return report

    def report(self, report_id: str) -> Report:
        found = self.reports.get(report_id)
        if found is None:
            raise Refusal(sp_api_error(404, "NotFound", f"reportId {report_id!r} was not found"))
        return found

    def document(self, document_id: str) -> Report:
        found = next((r for r in self.reports.peek() if r.document_id == document_id), None)
        if found is None:
            raise Refusal(
                sp_api_error(404, "NotFound", f"reportDocumentId {document_id!r} was not found")
            )
        return found


def add_routes(router: APIRouter, orders: AmazonOrders, ctx: SandboxContext) -> None:
    """Add buyers' return requests and the Reports routes to the Amazon router."""
    requests = AmazonReturnRequests(orders, ctx.store)
    auth = [Depends(require_access_token)]

    @router.post("/amazon/_sandbox/orders/{order_id}/buyer-return", status_code=201)
    async def buyer_return(order_id: str, request: BuyerReturn) -> Any:
        """A buyer asks to return shipped units of an item (not an SP-API operation)."""
        row = requests.open(order_id, request)
        ctx.ledger.record(
            partner="amazon",
            kind="return_requested",
            reference=order_id,
            return_id=row.rma,
            sku=row.item.sku,
            quantity=row.quantity,
            reason=row.reason,
        )
        return row.cells()

    @router.post(f"{API}/reports", status_code=202, dependencies=auth)
    async def create_report(spec: CreateReportSpecification) -> Any:
        """createReport: queue a report of the return requests in a window."""
        return {"reportId": requests.create_report(spec).id}

    @router.get(f"{API}/reports/{{report_id}}", dependencies=auth)
    async def get_report(report_id: str) -> Any:
        """getReport: processing status and, once DONE, the report's document id."""
        report = requests.report(report_id)
        report.advance()
        return report.as_json()

    @router.get(f"{API}/documents/{{document_id}}", dependencies=auth)
    async def get_report_document(document_id: str, request: Request) -> Any:
        """getReportDocument: where to download the report, and how it is compressed."""
        requests.document(document_id)
        return {
            "reportDocumentId": document_id,
            "url": f"{str(request.base_url).rstrip('/')}{DOWNLOADS}/{document_id}",
            "compressionAlgorithm": "GZIP",
        }

    # A stand-in for the presigned S3 URL: no SP-API token, as S3 takes none.
    @router.get(f"{DOWNLOADS}/{{document_id}}")
    async def download(document_id: str) -> Response:
        """Download a report document (GZIP-compressed)."""
        return Response(requests.document(document_id).content, media_type="application/gzip")
