"""Storefront checkouts → order workflows (`POST /intake/storefront/checkout`), trusted
only once the shop confirms them.

In order, before any side effect: the request is rate-limited per source (429); its
`Crossdock-Storefront-Signature` (HMAC-SHA256 over `"{t}.{raw body}"` with the install's
storefront secret, 300 s tolerance, constant-time compare) is verified (401), and a
signature already accepted is a replay (409); the order is re-read from the storefront's
API and must equal the shop's record (an order the shop never had, or a field that
differs: 422 naming it); and it must be what the shop sells, by the catalog's SKUs, list
prices, customs facts and shipping fee (422 naming the field). Only then does its
workflow start. The same order posted again is idempotent (202 `started: false`); the
same order id with other content is refused with 409, logged and written to the audit
log, and the running order is left as it was.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import structlog
from fastapi import Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from crossdock.audit import AuditLog, DecisionAttempt, Outcome
from crossdock.catalog import Catalog
from crossdock.config import Settings
from crossdock.models.approval import Principal, Role
from crossdock.models.bounds import Reference, arriving
from crossdock.models.order import Channel, Order
from crossdock.models.order_steps import OrderInput
from crossdock.partners.errors import PartnerError
from crossdock.partners.storefront import StorefrontClient
from starter.orders import start_order
from starter.rate_limit import enforce
from starter.stripe_signature import SignatureRefused, verify
from starter.webhooks_stripe import Remembered

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "Crossdock-Storefront-Signature"
# Who the audit log names for intake's own refusals (no operator decided them).
INTAKE = Principal(id="intake", role=Role.VIEWER)
_PATH_PART = re.compile(r"[A-Za-z_]+|\d+")


class Refused(Exception):
    """A checkout refused: the status, a code, the message and the field it is about."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def response(self) -> JSONResponse:
        """In the error shape of every intake and console refusal (crossdock.request_limits):
        `{"error": code, "message": ..., "fields": [{"field", "message"}]}`."""
        log.warning(f"storefront_checkout_{self.code}", reason=self.message, field=self.field)
        if self.field is None:
            plain = {"error": self.code, "message": self.message}
            return JSONResponse(plain, status_code=self.status)
        field = ".".join(["body", *_PATH_PART.findall(self.field)])
        body = {
            "error": self.code,
            "message": f"{field}: {self.message}",
            "fields": [{"field": field, "message": self.message}],
        }
        return JSONResponse(body, status_code=self.status)


class StorefrontCheckout(Order):
    """An order as the storefront posts it at checkout: the channel is the storefront."""

    channel: Literal[Channel.STOREFRONT]
    # The provider's payment method token: a storefront order is paid at checkout.
    payment_method: Annotated[Reference, Field(min_length=1)]


class CheckoutAccepted(BaseModel):
    """The order's workflow, and whether this request started it (false: it ran already)."""

    workflow_id: str
    started: bool


STOREFRONT_SIGNATURE = APIKeyHeader(
    name=SIGNATURE_HEADER,
    scheme_name="StorefrontSignature",
    description="t=<unix time>,v1=<HMAC-SHA256 of '{t}.{raw body}' with the storefront secret>",
    auto_error=False,
)


async def signed_checkout(
    request: Request, header: Annotated[str | None, Security(STOREFRONT_SIGNATURE)]
) -> str:
    """Rate limit (429) and signature (401, 409) first, before the body is validated:
    whoever cannot sign learns nothing of what a valid checkout holds."""
    enforce(request, "storefront")
    intake: CheckoutIntake = request.app.state.checkout
    return intake.verified(await request.body(), header)


async def refused_answer(request: Request, err: Exception) -> JSONResponse:
    """A `Refused` raised before the handler (by `signed_checkout`), in the error shape."""
    assert isinstance(err, Refused)
    return err.response()


class CheckoutIntake:
    """Verifies storefront checkouts, confirms them with the shop, starts their orders.

    Args:
        client: Temporal client.
        settings: Where orders run and with which policy.
        storefront: The shop's API, to re-read each order.
        secret: The storefront's signing secret.
        catalog: What the shop sells, at which prices.
        audit: Where conflicting resubmissions are recorded (None: only logged).
        clock: Unix time now (tests move it).
    """

    def __init__(
        self,
        client: Client,
        settings: Settings,
        storefront: StorefrontClient,
        secret: str,
        catalog: Catalog,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
        memory: int = 10_000,
    ) -> None:
        self._client, self._settings, self._storefront = client, settings, storefront
        self._secret, self._catalog, self._audit, self._clock = secret, catalog, audit, clock
        self._signatures = Remembered(memory)

    async def receive(self, checkout: StorefrontCheckout, replay_key: str) -> JSONResponse:
        """Confirm, start (the signature is verified already, `replay_key` its key); the
        response says what happened."""
        try:
            # The windows only the door can judge; a plain Order from here on (the
            # workflow's input, compared with what it started with).
            order = arriving(Order.model_validate(checkout.model_dump()), datetime.now(UTC))
            await self._confirm(order)
            started = await start_order(self._client, order, self._settings)
            if not started:
                await self._same_as_started(order)
        except Refused as refused:
            return refused.response()
        self._signatures.add(replay_key)
        return JSONResponse({"workflow_id": order.workflow_id, "started": started}, status_code=202)

    def verified(self, body: bytes, header: str | None) -> str:
        """The replay key of a checkout signed with the storefront's secret, not seen
        before; else `Refused` (401 forged or stale, 409 replayed)."""
        try:
            signed = verify(body, header, self._secret, self._clock(), name=SIGNATURE_HEADER)
        except SignatureRefused as refused:
            raise Refused(401, "signature_refused", str(refused)) from None
        replay_key = f"{signed.timestamp}:{signed.signature}"
        if replay_key in self._signatures:
            # The storefront signs every delivery afresh: the same signature is a replay.
            raise Refused(409, "replay_refused", "this exact signed request was seen before")
        return replay_key

    async def _confirm(self, order: Order) -> None:
        """The order as the shop has it, at the shop's prices; else `Refused`."""
        try:
            record = await self._storefront.retrieve_order(order.channel_order_id)
        except PartnerError as err:
            # Unconfirmed is not refused: 503, so the storefront delivers it again later.
            raise Refused(503, "storefront_unavailable", f"retry later: {err}") from None
        if record is None:
            raise Refused(
                422,
                "unknown_order",
                f"the storefront has no order {order.channel_order_id!r}",
                "channel_order_id",
            )
        ours, theirs = order.model_dump(mode="json"), record.order.model_dump(mode="json")
        for path, why in differences(ours, theirs):
            raise Refused(422, "differs_from_storefront", why, path)
        for path, why in self._catalog.mismatches(record.order):
            raise Refused(422, "not_in_catalog", why, path)

    async def _same_as_started(self, order: Order) -> None:
        """Refuse (409, flagged) when the order's workflow started with other content."""
        started = await started_order(self._client, order.workflow_id)
        if started is None or started == order:
            return
        ours, first = order.model_dump(mode="json"), started.model_dump(mode="json")
        fields = [path for path, _ in differences(ours, first, "the first submission")]
        message = (
            f"order {order.channel_order_id!r} was received before with other content "
            f"({', '.join(fields[:5])}); the first submission stands"
        )
        log.warning("storefront_checkout_conflict", workflow_id=order.workflow_id, fields=fields)
        if self._audit is not None and not await _audited(self._audit, order.workflow_id, message):
            attempt = DecisionAttempt(
                workflow_id=order.workflow_id,
                action="storefront_checkout",
                by=INTAKE,
                outcome=Outcome.REFUSED,
                reason=message,
                detail={"conflict": fields},
            )
            await asyncio.to_thread(self._audit.append, attempt)
        raise Refused(409, "conflicting_duplicate", message, fields[0] if fields else None)


async def _audited(audit: AuditLog, workflow_id: str, reason: str) -> bool:
    """Whether this conflict is in the audit log already: the storefront retries a
    refused checkout, and each retry must not add an entry."""
    entries = await asyncio.to_thread(audit.entries, workflow_id)
    return any(e.action == "storefront_checkout" and e.reason == reason for e in entries)


async def started_order(client: Client, workflow_id: str) -> Order | None:
    """The order a workflow was started with (from its first history event), or None when
    its history is gone."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        async for event in handle.fetch_history_events():
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [started] = await client.data_converter.decode(payloads, [OrderInput])
            return started.order if isinstance(started, OrderInput) else None
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
    return None


def differences(
    ours: Any, theirs: Any, against: str = "the storefront's record", path: str = ""
) -> Iterator[tuple[str, str]]:
    """(path, why) for each leaf where two JSON values differ, e.g. items[0].unit_price."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            at = f"{path}.{key}" if path else key
            yield from differences(ours.get(key), theirs.get(key), against, at)
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            yield from differences(a, b, against, f"{path}[{index}]")
    elif ours != theirs:
        # Named, never shown: the record holds a buyer's personal data, and whoever
        # posted the checkout may not be the storefront.
        yield path or "body", f"differs from {against}"
