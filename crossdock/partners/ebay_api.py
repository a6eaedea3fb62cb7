"""What every eBay API client shares: eBay's error shape, the seller's OAuth token, and
where each API lives under the API root.

The Sell and Commerce APIs take the token as a Bearer token; the Post-Order API takes
the same OAuth token as `IAF <token>`. A client names its API root (`root`), and the
Post-Order clients derive from `PostOrderApi`, so the header and the error reader are
written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import httpx

from crossdock.partners.http import PartnerApi

PARTNER = "ebay"
SELL_FULFILLMENT = "/sell/fulfillment/v1"
# Sent by the clients of APIs that would otherwise answer XML.
ACCEPT_JSON: Mapping[str, str] = MappingProxyType({"Accept": "application/json"})


def read_ebay_error(body: Any) -> tuple[str | None, str | None]:
    """(errorId, message) of an eBay error: the Sell APIs' {"errors": [...]} or the
    Post-Order API's {"errorMessage": {"error": [...]}}, each item {errorId, message,
    longMessage}."""
    if not isinstance(body, dict):
        return None, None
    errors = body.get("errors")
    container = body.get("errorMessage")
    if not errors and isinstance(container, dict):
        errors = container.get("error")
    if not errors or not isinstance(errors, list) or not isinstance(errors[0], dict):
        return None, None
    first = errors[0]
    code = first.get("errorId")
    message = first.get("longMessage") or first.get("message")
    return (None if code is None else str(code)), message


class EbayApi(PartnerApi):
    """One eBay API under `base_url` + `root`, eBay's errors read one way.

    Args:
        base_url: API root, e.g. "http://127.0.0.1:8700/ebay" or "https://api.ebay.com".
        access_token: The OAuth user access token.
        http: A shared `httpx.AsyncClient` (the eBay APIs share one pool); one is
            created (and owned) when omitted.
        timeout: Seconds per request.
    """

    root: ClassVar[str] = ""
    scheme: ClassVar[str] = "Bearer"
    extra_headers: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def __init__(
        self,
        base_url: str,
        access_token: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(
            f"{base_url.rstrip('/')}{self.root}",
            http,
            timeout,
            partner=PARTNER,
            read_error=read_ebay_error,
            headers={"Authorization": f"{self.scheme} {access_token}", **self.extra_headers},
        )


class PostOrderApi(EbayApi):
    """One resource of eBay's Post-Order API v2, which takes the OAuth token as IAF."""

    scheme: ClassVar[str] = "IAF"
