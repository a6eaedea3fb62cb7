"""The transactional email adapter, in SendGrid's v3 wire format (works against SendGrid).

One plain-text message to one buyer per call. Failures arrive as
`crossdock.partners.errors` types: an invalid message (bad address, empty text) is
`PartnerRejected` naming SendGrid's field, 429 is `RateLimited`, 5xx and timeouts
`PartnerUnavailable`.

SendGrid has no idempotency keys: a send retried after a lost answer is sent twice. We
send an `Idempotency-Key` header anyway; the sandbox dedupes on it, SendGrid ignores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from crossdock.partners.http import PartnerApi

__all__ = ["MailClient", "read_sendgrid_error"]

PARTNER = "mail"


def read_sendgrid_error(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from SendGrid's `{"errors": [{"message", "field"}]}`: SendGrid has
    no codes, so the message names each field."""
    errors = body["errors"]
    parts = [
        f"{error['field']}: {error.get('message')}" if error.get("field") else error["message"]
        for error in errors
    ]
    return None, "; ".join(str(part) for part in parts) or None


class MailClient(PartnerApi):
    """Async client for a SendGrid-compatible mail API (the sandbox or SendGrid).

    Args:
        base_url: API root without the version, e.g. "http://127.0.0.1:8700/mail" or
            "https://api.sendgrid.com".
        api_key: sent as a Bearer token, as SendGrid documents.
        http: a shared `httpx.AsyncClient`; one is created (and owned) when omitted.
        timeout: seconds per request.
        sender: the From address (a verified sender at SendGrid).
        sender_name: the From name buyers see.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        *,
        sender: str = "orders@crossdock.example",
        sender_name: str = "Crossdock",
    ) -> None:
        super().__init__(
            base_url,
            http,
            timeout,
            partner=PARTNER,
            read_error=read_sendgrid_error,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        self._sender = {"email": sender, "name": sender_name}

    async def send(
        self,
        to: str,
        subject: str,
        text: str,
        idempotency_key: str,
        *,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Send one plain-text message to `to`.

        Args:
            to: the recipient's address.
            subject: the subject line.
            text: the plain-text body.
            idempotency_key: dedupes retries where the service supports it (the sandbox).
            tags: SendGrid `custom_args`, echoed in its event webhooks (no personal data).

        Raises:
            PartnerRejected: SendGrid refused the message (the field is named).
        """
        body: dict[str, Any] = {
            "personalizations": [{"to": [{"email": to}]}],
            "from": self._sender,
            "subject": subject,
            "content": [{"type": "text/plain", "value": text}],
        }
        if tags:
            body["custom_args"] = dict(tags)
        await self._call("POST", "/v3/mail/send", idempotency_key, json=body)
