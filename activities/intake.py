"""Intake activities: list a marketplace's new orders and start their workflows; relay
buyers' cancellation requests to their orders (`cancellation_requests.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial

import structlog
from pydantic import ValidationError
from temporalio import activity
from temporalio.client import Client

from activities.cancellation_requests import CancellationRelay
from activities.errors import partner_errors
from activities.heartbeat import beat
from activities.return_intake import return_for_cancellation
from activities.starters import StartOrder, StartReturn
from crossdock.catalog import Catalog, UnknownSku, default_catalog
from crossdock.config import Settings
from crossdock.identity.claims import signer_for
from crossdock.models.bounds import arriving
from crossdock.models.intake import (
    ImportCancellationsInput,
    ImportCancellationsResult,
    ImportOrdersInput,
    ImportOrdersResult,
    RefusedOrder,
)
from crossdock.models.order import Channel, Order
from crossdock.partners.amazon import AmazonOrder
from crossdock.partners.clients import PartnerClients
from crossdock.partners.ebay import EbayOrder
from crossdock.partners.ebay_post_order import EbayPostOrderClient
from crossdock.partners.errors import PartnerUnavailable, RateLimited
from crossdock.partners.translate import from_amazon, from_ebay

log = structlog.get_logger(__name__)


class IntakeActivities:
    """Intake's activities, with the Temporal client and partner clients injected.

    Args:
        client: Sends order workflows the buyers' cancellation requests.
        partners: The marketplace clients.
        start_order: Starts an order's workflow; False when it was ever started
            (`starter.orders.OrderStarter`, injected by worker.py).
        start_return: Starts the return a cancellation asked after shipment becomes
            (`starter.returns.ReturnStarter`, injected by worker.py).
        settings: Order policy for the workflows started.
        catalog: Customs data per SKU (the bundled catalog when omitted).
        post_order: eBay's Post-Order client; built from `settings` over the eBay
            Fulfillment client's connection pool when omitted.
    """

    def __init__(
        self,
        client: Client,
        partners: PartnerClients,
        settings: Settings,
        start_order: StartOrder,
        start_return: StartReturn,
        catalog: Catalog | None = None,
        post_order: EbayPostOrderClient | None = None,
    ) -> None:
        self._start_order = start_order
        self._partners = partners
        self._catalog = catalog or default_catalog()
        post_order = post_order or EbayPostOrderClient(
            settings.ebay_base_url,
            settings.ebay_access_token,
            http=partners.ebay.http,
            timeout=settings.partner_timeout_seconds,
        )
        self._cancellations = CancellationRelay(
            client,
            partners.amazon,
            post_order,
            signer_for(settings),
            # After shipment a buyer's cancellation becomes a return.
            after_shipment=partial(return_for_cancellation, client, start_return),
        )

    @activity.defn
    async def import_new_orders(self, input: ImportOrdersInput) -> ImportOrdersResult:
        """Start a workflow for every listed order not in `input.skip`.

        Starting is idempotent (the workflow id is the channel order id), so a retry of
        this activity after a partial run starts nothing twice. A retry also goes on
        where the last attempt stopped (the orders it handled are its heartbeat), and an
        order a partner fault keeps from being read waits for that retry while the
        others go on: faults on a few orders never hold back the rest, and a large
        backlog under faults still drains (each order read until it answers once).
        """
        result = ImportOrdersResult()
        handled = _resumed_ids()
        skip = set(input.skip) | set(handled)
        fault: PartnerUnavailable | RateLimited | None = None
        with partner_errors():
            async for listed in self._listed(input.channel, input.created_after):
                order_id, placed = identify(listed)
                result.seen[order_id] = placed
                if order_id in skip:
                    continue
                try:
                    await self._import(input.channel, order_id, listed, result)
                except (PartnerUnavailable, RateLimited) as err:
                    fault = err
                    continue
                handled.append(order_id)
                beat(handled)
            if fault is not None:
                raise fault  # Temporal retries; the retry reads only what is left
        return result

    async def _import(
        self,
        channel: Channel,
        order_id: str,
        listed: AmazonOrder | EbayOrder,
        result: ImportOrdersResult,
    ) -> None:
        try:
            # The door's bounds too (date windows, FX, customs destinations).
            order = arriving(await self._to_order(listed), datetime.now(UTC))
        except (ValueError, ValidationError, UnknownSku) as err:
            # Not importable as it stands: recorded in the poller's history and logged
            # for an operator, never silently dropped.
            log.error("order_refused", channel=channel, order_id=order_id, reason=str(err))
            result.refused.append(RefusedOrder(channel_order_id=order_id, reason=str(err)))
            return
        if await self._start_order(order):
            result.started.append(order_id)

    @activity.defn
    async def import_cancellation_requests(
        self, input: ImportCancellationsInput
    ) -> ImportCancellationsResult:
        """Relay every buyer cancellation request listed since `input.since` (and not in
        `input.skip`) to its order as the `cancel` update, and answer the marketplace.

        Safe to retry: a repeated update gets its first answer back, an order already
        cancelling counts as done, and an answer eBay already took is read back.
        """
        with partner_errors():
            return await self._cancellations.run(input)

    async def _listed(
        self, channel: Channel, created_after: datetime
    ) -> AsyncIterator[AmazonOrder | EbayOrder]:
        if channel is Channel.AMAZON:
            token: str | None = None
            while True:
                amazon = await self._partners.amazon.get_orders(created_after, token)
                for order in amazon.orders:
                    yield order
                if not (token := amazon.next_token):
                    return
        elif channel is Channel.EBAY:
            offset: int | None = 0
            while offset is not None:
                ebay = await self._partners.ebay.get_orders(created_after, offset=offset)
                for listed in ebay.orders:
                    yield listed
                offset = ebay.next_offset
        else:
            raise ValueError(f"channel {channel} is not polled; its orders are pushed")

    async def _to_order(self, listed: AmazonOrder | EbayOrder) -> Order:
        if isinstance(listed, AmazonOrder):
            items = await self._partners.amazon.get_order_items(listed.amazon_order_id)
            return from_amazon(listed, items, self._catalog)
        return from_ebay(listed, self._catalog)


def _resumed_ids() -> list[str]:
    """The orders an earlier attempt of this activity handled (its last heartbeat)."""
    details = activity.info().heartbeat_details
    if not details or not isinstance(details[0], list):
        return []
    return [str(order_id) for order_id in details[0]]


def identify(listed: AmazonOrder | EbayOrder) -> tuple[str, datetime]:
    """The marketplace order id and purchase time of a listed order."""
    if isinstance(listed, AmazonOrder):
        return listed.amazon_order_id, listed.purchase_date
    return listed.order_id, listed.creation_date
