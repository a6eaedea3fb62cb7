"""SP-API Tokens API (2021-03-01): Restricted Data Tokens for buyers' personal data.

    POST /amazon/tokens/2021-03-01/restrictedDataToken
         {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders",
                                   "dataElements": ["buyerInfo", "shippingAddress"]}]}
      -> {"restrictedDataToken": "Atz.sprdt|...", "expiresIn": 3600}

Amazon publishes no model for this API in the contracts folder; the shapes follow its
Tokens API reference and the Orders "restricted data" guide. Without a token the orders
answer withholds the restricted fields: `BuyerInfo`'s buyer name and email, and the
`ShippingAddress` name, address lines and phone (city, region, postal code and country
stay). A path may name one order or be generic (`/orders/v0/orders/{orderId}`); a token
opens only the paths and data elements it was issued for, for an hour.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header

from crossdock.sandbox.amazon.orders import invalid, sp_api_error
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import RecordStore, Table

PARTNER = "amazon"
LIFETIME = 3600
DATA_ELEMENTS = frozenset({"buyerInfo", "shippingAddress", "buyerTaxInformation"})
# The operations whose answers hold restricted data, as generic paths.
RESTRICTED_PATHS = (
    "/orders/v0/orders",
    "/orders/v0/orders/{orderId}",
    "/orders/v0/orders/{orderId}/buyerInfo",
    "/orders/v0/orders/{orderId}/address",
    "/orders/v0/orders/{orderId}/orderItems",
)
PREFIX = "Atz.sprdt|"


def require_access_token(
    token: Annotated[str | None, Header(alias="x-amz-access-token")] = None,
) -> None:
    """Every SP-API call carries the LWA access token; the sandbox takes any."""
    if not token:
        raise Refusal(
            sp_api_error(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The x-amz-access-token header is missing.",
            )
        )


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")


@dataclass
class IssuedToken:
    token: str
    # (method, path as issued, data elements) per restricted resource
    resources: list[tuple[str, str, list[str]]]
    expires_at: float = field(default_factory=lambda: time.time() + LIFETIME)


class RestrictedData:
    """The tokens issued, and what each opens."""

    def __init__(self, store: RecordStore) -> None:
        self.tokens: Table[IssuedToken] = store.table(PARTNER, "restricted_data_token", IssuedToken)

    def issue(self, body: Any) -> dict[str, Any]:
        resources = body.get("restrictedResources") if isinstance(body, dict) else None
        if not isinstance(resources, list) or not resources:
            raise invalid("restrictedResources: a non-empty list of restricted resources")
        granted = [self._resource(r) for r in resources]
        issued = IssuedToken(token=PREFIX + secrets.token_urlsafe(24), resources=granted)
        self.tokens[issued.token] = issued
        return {"restrictedDataToken": issued.token, "expiresIn": LIFETIME}

    @staticmethod
    def _resource(resource: Any) -> tuple[str, str, list[str]]:
        if not isinstance(resource, dict):
            raise invalid("restrictedResources: each resource is an object")
        method, path = resource.get("method"), resource.get("path")
        if method != "GET" or not isinstance(path, str):
            raise invalid(f"restrictedResources: method {method!r} path {path!r} is not restricted")
        if not any(_pattern(p).match(path) or p == path for p in RESTRICTED_PATHS):
            raise invalid(f"restrictedResources: {path!r} is not a restricted operation")
        elements = resource.get("dataElements") or []
        unknown = set(elements) - DATA_ELEMENTS
        if unknown:
            raise invalid(
                f"dataElements: {', '.join(sorted(unknown))} not one of {sorted(DATA_ELEMENTS)}"
            )
        return method, path, list(elements)

    def opened(self, token: str | None, path: str) -> frozenset[str]:
        """The data elements `token` opens on `path` (below /amazon); none for the plain
        access token, a token for other paths, or an expired one."""
        if not token or not token.startswith(PREFIX):
            return frozenset()
        issued = self.tokens.get(token)
        if issued is None or issued.expires_at < time.time():
            return frozenset()
        found: set[str] = set()
        for _, granted, elements in issued.resources:
            if _pattern(granted).match(path):
                found.update(elements)
        return frozenset(found)


def add_token_routes(router: APIRouter, tokens: RestrictedData, auth: list[Any]) -> None:
    @router.post(
        "/amazon/tokens/2021-03-01/restrictedDataToken", dependencies=[Depends(a) for a in auth]
    )
    async def create_restricted_data_token(body: dict[str, Any]) -> Any:
        """createRestrictedDataToken."""
        return tokens.issue(body)
