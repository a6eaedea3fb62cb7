"""What every EasyPost-shaped sandbox object shares: ids, timestamps, the error shape."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import JSONResponse

from crossdock.sandbox.core.http_api import PartnerError

PARTNER = "easypost"
Json = dict[str, Any]
SIGNATURE_HEADER = "X-Hmac-Signature"


class EasyPostError(PartnerError):
    """A refusal rendered in EasyPost's error shape."""

    def __init__(
        self, status: int, code: str, message: str, errors: list[Json] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"code": code, "message": message, "errors": errors or []}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.body}, status_code=self.status)


class InvalidRequest(EasyPostError):
    """Refused before executing (invalid parameters, unknown objects): not saved under
    the idempotency key, so corrected data can be sent again with the same key."""


def field_error(name: str, message: str) -> Json:
    return {"field": name, "message": message, "suggestion": None}


def not_found(kind: str, object_id: str) -> EasyPostError:
    return InvalidRequest(
        404, "NOT_FOUND", f"The requested resource could not be found: {kind} {object_id!r}."
    )


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dated(prefix: str, object_name: str, now: datetime, fields: Json) -> Json:
    """An EasyPost object: a fresh id, its type, test mode, the fields, timestamps."""
    stamp = timestamp(now)
    return {
        "id": new_id(prefix),
        "object": object_name,
        "mode": "test",
        **fields,
        "created_at": stamp,
        "updated_at": stamp,
    }


def sign(body: bytes, secret: str) -> dict[str, str]:
    """The headers EasyPost adds to a webhook delivery of `body`: `X-Hmac-Signature:
    hmac-sha256-hex=<hex>`, HMAC-SHA256 of the raw body keyed with the webhook's secret,
    NFKD-normalized and UTF-8 encoded (as the official SDK's `validate_webhook` checks)."""
    key = unicodedata.normalize("NFKD", secret).encode()
    digest = hmac.new(key, body, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"hmac-sha256-hex={digest}"}
