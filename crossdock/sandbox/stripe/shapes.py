"""Stripe's wire shapes in the sandbox: the error body, and the answers about keys."""

from __future__ import annotations

import logging
from typing import Any

from fastapi.responses import JSONResponse

from crossdock.sandbox.core.http_api import PartnerError

PARTNER = "stripe"

log = logging.getLogger(__name__)

Params = dict[str, Any]
Json = dict[str, Any]


class StripeError(PartnerError):
    """A refusal rendered in Stripe's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: Json | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"type": type_, "message": message}
        if code:
            self.body["code"] = code
            self.body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            self.body["param"] = param
        self.body.update(extra or {})

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.body}, status_code=self.status)


class InvalidRequest(StripeError):
    """Refused before executing (bad or unknown parameters, unknown objects).

    As at Stripe, such a result is not saved under the idempotency key, so the client
    can fix its parameters and retry with the same key.
    """


def crashed(error: Exception) -> JSONResponse:
    """Stripe's answer when the request broke while executing: a 500, saved under its key."""
    log.error("stripe_request_crashed", exc_info=error)
    return StripeError(
        500,
        "An unknown error occurred while processing your request.",
        type_="api_error",
    ).response()


def key_in_use(key: str) -> JSONResponse:
    """Stripe's refusal of a key whose first request is still running (clients retry)."""
    return StripeError(
        409,
        f"There is currently another in-progress request using this Idempotency-Key "
        f"('{key}'); that probably means you submitted twice, and the other request is "
        "still going through. Please try again later.",
        type_="idempotency_error",
        code="idempotency_key_in_use",
    ).response()


def idempotency_conflict(key: str) -> JSONResponse:
    return StripeError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        type_="idempotency_error",
    ).response()


# --- routes ---------------------------------------------------------------------------


def payment_method_json(payment_method: str, created: int) -> Json:
    """The PaymentMethod object a card error carries (`error.payment_method`), with the
    fields Stripe always sends; the sandbox keeps no card details to show."""
    return {
        "id": payment_method,
        "object": "payment_method",
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "created": created,
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }
