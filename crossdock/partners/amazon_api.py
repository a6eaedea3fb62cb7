"""What every Amazon client shares: SP-API's error list, the LWA access token sent as
`x-amz-access-token`, and where each API lives under the root.

A client names its API root (`root`) and the media type it accepts (`accept`); a
client for one marketplace derives from `MarketplaceApi`. Feeds and reports move their
documents through pre-signed URLs outside the API, reached with `_document`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from crossdock.partners.http import PartnerApi, send

PARTNER = "amazon"


def read_sp_api_error(body: Any) -> tuple[str | None, str | None]:
    """(code, message) of an SP-API error list {"errors": [{code, message, details}]}."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return None, None
    first = errors[0]
    details = first.get("details")
    message = first.get("message")
    return first.get("code"), f"{message}: {details}" if details else message


class SpApi(PartnerApi):
    """One Amazon API under `base_url` + `root`, SP-API's errors read one way.

    Args:
        base_url: API root, e.g. "http://127.0.0.1:8700/amazon".
        access_token: The LWA access token sent as `x-amz-access-token`.
        http: A shared `httpx.AsyncClient` (e.g. the Orders client's pool); one is
            created (and owned) when omitted.
        timeout: Seconds per request.
    """

    root: ClassVar[str] = ""
    accept: ClassVar[str | None] = "application/json"

    def __init__(
        self,
        base_url: str,
        access_token: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        headers = {"x-amz-access-token": access_token}
        if self.accept is not None:
            headers["accept"] = self.accept
        super().__init__(
            f"{base_url.rstrip('/')}{self.root}",
            http,
            timeout,
            partner=PARTNER,
            read_error=read_sp_api_error,
            headers=headers,
        )

    async def _document(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """`method` on a pre-signed document `url`: no API headers (the URL is the
        credential), failures classified as the API's."""
        return await send(
            self._http, PARTNER, method, url, read_sp_api_error, timeout=self._timeout, **kwargs
        )


class MarketplaceApi(SpApi):
    """An Amazon API used in one marketplace (`marketplace_id`, e.g. "A1PA6795UKMFR9")."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        marketplace_id: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, access_token, http, timeout)
        self.marketplace_id = marketplace_id
