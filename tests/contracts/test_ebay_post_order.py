"""eBay Post-Order: eBay publishes no OpenAPI contract for it, so these checks follow
its reference pages (`ebay_post_order_docs.json` in the contracts folder, transcribed
from developer.ebay.com): the error container and the case types' field lists."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from crossdock.partners.ebay_cases import EbayCasesClient
from crossdock.partners.errors import PartnerRejected
from tests.claim_orders import open_ebay_case, shipped_ebay_order
from tests.contracts.contracts import contracts_dir

IAF = {"Authorization": "IAF v^1.1#test"}


def documented(type_name: str) -> dict[str, Any]:
    docs: dict[str, Any] = json.loads((contracts_dir() / "ebay_post_order_docs.json").read_text())
    return dict(docs[type_name])


def fits_the_error_response(body: Any) -> None:
    """Post-Order's ErrorResponse, read strictly from the documented shape."""
    shape = documented("ErrorResponse")["shape"]
    allowed = set(shape["errorMessage"]["error"][0])
    assert set(body) == {"errorMessage"} and set(body["errorMessage"]) == {"error"}
    for error in body["errorMessage"]["error"]:
        assert set(error) <= allowed, set(error) - allowed
        assert isinstance(error["errorId"], int) and error["message"]
        for parameter in error.get("parameter", []):
            assert set(parameter) == {"name", "value"}


@pytest.fixture
def cases(raw_http: httpx.AsyncClient) -> EbayCasesClient:
    return EbayCasesClient("http://sandbox/ebay", "v^1.1#test", http=raw_http)


async def test_a_post_order_refusal_keeps_its_reason(cases: EbayCasesClient) -> None:
    with pytest.raises(PartnerRejected) as refused:
        await cases.get_case("5999999999")

    assert (refused.value.status, refused.value.code) == (404, "1701")
    assert "case ID is invalid" in refused.value.message


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/ebay/post-order/v2/casemanagement/5999999999", None),
        ("POST", "/ebay/post-order/v2/cancellation", {"legacyOrderId": "00-00000-00000"}),
        ("GET", "/ebay/post-order/v2/cancellation/search?limit=0", None),
        ("GET", "/ebay/post-order/v2/return/search?limit=x", None),
    ],
)
async def test_post_order_errors_come_in_its_own_container(
    raw_http: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await raw_http.request(
        method, path, json=body, headers={"Authorization": "IAF v^1.1#test"}
    )

    assert response.status_code in (400, 404), response.text
    fits_the_error_response(response.json())


async def test_a_bad_token_on_post_order_is_refused_in_its_container(
    raw_http: httpx.AsyncClient,
) -> None:
    response = await raw_http.get("/ebay/post-order/v2/casemanagement/search")

    assert response.status_code == 401
    fits_the_error_response(response.json())


async def test_a_case_names_its_line_not_its_order_and_is_tied_to_the_order(
    cases: EbayCasesClient, raw_http: httpx.AsyncClient
) -> None:
    await shipped_ebay_order(raw_http, "28-00001-55555")
    opened = await open_ebay_case(raw_http, "28-00001-55555")
    details = (
        await raw_http.get(f"/ebay/post-order/v2/casemanagement/{opened['caseId']}", headers=IAF)
    ).json()
    search = (await raw_http.get("/ebay/post-order/v2/casemanagement/search", headers=IAF)).json()

    allowed = set(documented("CaseDetailsResponse")["fields"])
    assert "orderId" not in details and set(details) <= allowed, set(details) - allowed
    assert all("orderId" not in summary for summary in search["members"])
    snapshot = await cases.get_case(str(opened["caseId"]))
    assert snapshot.order_workflow_id == "order-ebay-28-00001-55555"
