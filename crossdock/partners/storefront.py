"""The seller's storefront, as intake reads it: its record of an order.

`GET {base}/orders/{id}` answers the shop's record (`{"order_id", "status", "order":
<Order>, ...}`); intake compares a signed checkout with it before anything happens, so a
checkout the shop never had, or one altered on the way, goes no further. Errors arrive
as `crossdock.partners.errors` types; an order the shop does not have is `None`.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from crossdock.models.order import Order
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable
from crossdock.partners.http import PartnerApi

PARTNER = "storefront"


class StorefrontOrder(BaseModel):
    """The shop's record of one order."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    order_id: str
    status: str
    order: Order


def read_storefront_error(body: Any) -> tuple[str | None, str | None]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    return error.get("code"), error.get("message")


class StorefrontClient(PartnerApi):
    """Async client for the storefront's order API.

    Args:
        base_url: e.g. "http://127.0.0.1:8700/storefront".
        http: a shared `httpx.AsyncClient`; one is created (and owned) when omitted.
        timeout: seconds per request.
    """

    def __init__(
        self, base_url: str, http: httpx.AsyncClient | None = None, timeout: float = 10.0
    ) -> None:
        super().__init__(
            base_url,
            http,
            timeout,
            partner=PARTNER,
            read_error=read_storefront_error,
            headers={},
        )

    async def retrieve_order(self, order_id: str) -> StorefrontOrder | None:
        """The shop's record of `order_id`, or None when the shop has no such order.

        Raises:
            PartnerUnavailable: the shop could not answer (or answered something that is
                not an order record): ask again later.
            PartnerRejected: the shop refused the request.
        """
        try:
            response = await self._call("GET", f"/orders/{order_id}")
        except PartnerRejected as err:
            if err.status == 404:
                return None
            raise
        try:
            return StorefrontOrder.model_validate(response.json())
        except (ValueError, ValidationError) as err:
            raise PartnerUnavailable(PARTNER, f"order {order_id}: not an order record") from err
