"""Amazon Selling Partner API adapter, Reports v2021-06-30: buyers' return requests on
orders the seller ships itself, from the returns report
(GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE). SP-API has no return-request search for
seller-fulfilled orders; the report is how a seller learns of them.

Reading it is four calls: createReport for a window of return request dates, getReport
until its processingStatus is DONE, getReportDocument (a presigned URL, maybe GZIP), and
the download: a tab-separated file with a header row, one row per returned item.
A report that takes longer than this client waits is `PartnerUnavailable` (the caller's
retry asks for a new one); FATAL is `PartnerRejected`. Amazon cancels a report with no
data to return: CANCELLED reads as no requests.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel, ConfigDict

from crossdock.partners.amazon_api import PARTNER, MarketplaceApi
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable

RETURNS_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
DONE, FATAL, CANCELLED = "DONE", "FATAL", "CANCELLED"


class AmazonReturnRow(BaseModel):
    """One returned item of a buyer's return request (a row of the returns report)."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    rma: str  # Amazon RMA ID: one per request, shared by its rows
    requested_at: datetime
    status: str  # Return request status, e.g. "Pending Authorization", "Closed"
    asin: str
    sku: str
    quantity: int
    reason: str  # Return Reason code, e.g. CR-DEFECTIVE, CR-UNWANTED_ITEM

    @classmethod
    def from_cells(cls, cells: dict[str, str]) -> AmazonReturnRow:
        try:
            return cls(
                order_id=cells["Order ID"],
                rma=cells["Amazon RMA ID"],
                requested_at=_when(cells["Return request date"]),
                status=cells.get("Return request status", ""),
                asin=cells.get("ASIN", ""),
                sku=cells["Merchant SKU"],
                quantity=int(cells.get("Return quantity") or "1"),
                reason=cells.get("Return Reason", ""),
            )
        except (KeyError, ValueError) as err:
            raise ValueError(f"returns report row {cells!r} is not readable: {err}") from None


def _when(value: str) -> datetime:
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_returns_report(content: bytes) -> list[AmazonReturnRow]:
    """The rows of a downloaded returns report (GZIP or plain, tab-separated)."""
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    text = content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    return [AmazonReturnRow.from_cells(row) for row in reader if any(row.values())]


class AmazonReportsClient(MarketplaceApi):
    """Async client for SP-API Reports v2021-06-30 in one marketplace (`marketplace_id`,
    the marketplace reports cover).

    Args:
        wait_seconds: Between two getReport calls while the report is processed.
        waits: getReport calls before giving up on this report.
    """

    root = "/reports/2021-06-30"

    def __init__(
        self,
        base_url: str,
        access_token: str,
        marketplace_id: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        wait_seconds: float = 1.0,
        waits: int = 15,
    ) -> None:
        super().__init__(base_url, access_token, marketplace_id, http, timeout)
        self._wait_seconds, self._waits = wait_seconds, waits

    async def return_requests(self, since: datetime) -> list[AmazonReturnRow]:
        """Every returned item of requests made at or after `since`, oldest first."""
        created = await self._json(
            "POST",
            "/reports",
            json={
                "reportType": RETURNS_REPORT,
                "marketplaceIds": [self.marketplace_id],
                "dataStartTime": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        document_id = await self._finished(str(created["reportId"]))
        if document_id is None:
            return []
        document = await self._json("GET", f"/documents/{document_id}")
        content = (await self._document("GET", document["url"])).content
        rows = read_returns_report(content)
        return sorted(rows, key=lambda row: row.requested_at)

    async def _finished(self, report_id: str) -> str | None:
        """Wait for the report to be DONE; its reportDocumentId (None: no data)."""
        for attempt in range(self._waits):
            report = await self._json("GET", f"/reports/{report_id}")
            status = report.get("processingStatus")
            if status == DONE:
                return str(report["reportDocumentId"])
            if status == CANCELLED:
                return None
            if status == FATAL:
                raise PartnerRejected(PARTNER, f"returns report {report_id} ended {status}")
            if attempt + 1 < self._waits:
                await asyncio.sleep(self._wait_seconds)
        raise PartnerUnavailable(
            PARTNER, f"returns report {report_id} not DONE after {self._waits} checks"
        )
