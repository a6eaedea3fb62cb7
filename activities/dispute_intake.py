"""Marketplace payment disputes found by polling (eBay has no dispute webhooks for us)
and handed to their dispute workflows, like Stripe's webhooks are."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity
from temporalio.client import Client

from activities.errors import partner_errors
from crossdock.models.dispute import (
    DisputeEvent,
    DisputePolicy,
    DisputeProvider,
    PollDisputesInput,
    PollDisputesResult,
)
from crossdock.partners.ebay_payment_disputes import EbayPaymentDisputesClient
from starter.dispute_start import deliver_dispute_event

# Disputes remembered by the poller; closed ones drop out first.
SEEN_LIMIT = 5_000


class DisputeIntakeActivities:
    def __init__(
        self,
        client: Client,
        ebay: EbayPaymentDisputesClient,
        task_queue: str,
        policy: DisputePolicy,
    ) -> None:
        self._client = client
        self._ebay = ebay
        self._task_queue = task_queue
        self._policy = policy

    @activity.defn
    async def poll_ebay_payment_disputes(self, input: PollDisputesInput) -> PollDisputesResult:
        """Signal every eBay payment dispute that changed since it was last seen.

        The event id is the dispute's id and state, so a poll repeated after a crash
        signals nothing new: the workflow drops the duplicate.
        """
        seen = dict(input.seen)
        signalled = 0
        with partner_errors():
            summaries = await self._ebay.summaries()
        for summary in summaries:
            dispute_id = str(summary["paymentDisputeId"])
            state = f"{summary['paymentDisputeStatus']}:{summary.get('closedDate', '')}"
            if seen.get(dispute_id) == state:
                continue
            with partner_errors():
                snapshot = await self._ebay.get_dispute(dispute_id)
            event = DisputeEvent(
                event_id=f"ebay:{dispute_id}:{state}",
                type=f"payment_dispute.{str(summary['paymentDisputeStatus']).lower()}",
                created=datetime.now(UTC),
                dispute=snapshot,
            )
            await deliver_dispute_event(
                self._client, DisputeProvider.EBAY, event, self._task_queue, self._policy
            )
            seen[dispute_id] = state
            signalled += 1
            activity.heartbeat(dispute_id)
        closed_first = sorted(seen, key=lambda d: not seen[d].startswith("CLOSED"))
        for dispute_id in closed_first[: max(0, len(seen) - SEEN_LIMIT)]:
            del seen[dispute_id]
        return PollDisputesResult(seen=seen, signalled=signalled)
